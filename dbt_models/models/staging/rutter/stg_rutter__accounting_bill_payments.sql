with

source as (

    select * from {{ source('rutter', 'accounting_bill_payments') }}

),

renamed as (

    select
        id as bill_payment_id,
        connection_id,
        platform_id,
        account_id,
        vendor_id,
        (transaction_date at time zone 'utc')::date as transaction_date,
        currency_code,
        currency_rate,
        document_number,
        memo,
        reference,
        status,
        total_amount,
        data->'linked_bills' as linked_bills,
        platform_url,
        created_at,
        updated_at,
        last_synced_at,
        _synced_at as synced_at
    from source
    where _deleted_at is null

)

select * from renamed
