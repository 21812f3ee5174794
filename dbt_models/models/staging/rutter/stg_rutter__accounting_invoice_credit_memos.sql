with

source as (

    select * from {{ source('rutter', 'accounting_invoice_credit_memos') }}

),

renamed as (

    select
        id as invoice_credit_memo_id,
        connection_id,
        platform_id,
        account_id,
        customer_id,
        {{ rutter_timestamp("data->>'allocated_at'") }} as allocated_at,
        (issue_date at time zone 'utc')::date as issue_date,
        currency_code,
        document_number,
        memo,
        remaining_amount,
        status,
        total_amount,
        platform_url,
        created_at,
        updated_at,
        last_synced_at,
        _synced_at as synced_at
    from source
    where _deleted_at is null

)

select * from renamed
