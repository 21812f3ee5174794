with

source as (

    select * from {{ source('rutter', 'accounting_expenses') }}

),

renamed as (

    select
        id as expense_id,
        connection_id,
        platform_id,
        account_id,
        customer_id,
        data->>'subsidiary_id' as subsidiary_id,
        vendor_id,
        (transaction_date at time zone 'utc')::date as transaction_date,
        currency_code,
        expense_type,
        currency_rate,
        memo,
        data->'line_items' as line_items,
        platform_url,
        created_at,
        updated_at,
        last_synced_at,
        _synced_at as synced_at
    from source
    where _deleted_at is null

)

select * from renamed
