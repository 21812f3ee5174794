with

source as (

    select * from {{ source('rutter', 'accounting_purchase_orders') }}

),

renamed as (

    select
        id as purchase_order_id,
        connection_id,
        platform_id,
        data->>'subsidiary_id' as subsidiary_id,
        vendor_id,
        (issue_date at time zone 'utc')::date as issue_date,
        status,
        currency_code,
        document_number,
        memo,
        total_amount,
        total_quantity,
        platform_url,
        created_at,
        updated_at,
        last_synced_at,
        _synced_at as synced_at
    from source
    where _deleted_at is null

)

select * from renamed
