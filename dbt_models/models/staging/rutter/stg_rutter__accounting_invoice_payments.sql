with

source as (

    select * from {{ source('rutter', 'accounting_invoice_payments') }}

),

renamed as (

    select
        id as invoice_payment_id,
        connection_id,
        platform_id,
        account_id,
        data->>'ar_account_id' as ar_account_id,
        customer_id,
        data->>'payment_method_id' as payment_method_id,
        (txn_date at time zone 'utc')::date as txn_date,
        currency_code,
        currency_rate,
        (data->>'deposited')::boolean as deposited,
        memo,
        reference,
        total_amount,
        data->'linked_invoices' as linked_invoices,
        platform_url,
        created_at,
        updated_at,
        last_synced_at,
        _synced_at as synced_at
    from source
    where _deleted_at is null

)

select * from renamed
