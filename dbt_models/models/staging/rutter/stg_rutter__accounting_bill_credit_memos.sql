with

source as (

    select * from {{ source('rutter', 'accounting_bill_credit_memos') }}

),

renamed as (

    select
        id as bill_credit_memo_id,
        connection_id,
        platform_id,
        account_id,
        vendor_id,
        (issue_date at time zone 'utc')::date as issue_date,
        document_number,
        remaining_amount,
        status,
        total_amount,
        currency_code,
        memo,
        platform_url,
        created_at,
        updated_at,
        last_synced_at,
        _synced_at as synced_at
    from source
    where _deleted_at is null

)

select * from renamed
