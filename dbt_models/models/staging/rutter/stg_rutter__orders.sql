with

source as (

    select * from {{ source('rutter', 'orders') }}

),

renamed as (

    select
        id as order_id,
        connection_id,
        platform_id,
        cancelled_at,
        payment_status,
        status,
        total_discount,
        total_price,
        fulfillment_status,
        iso_currency_code,
        name as order_name,
        order_number,
        source_name,
        total_line_items_price,
        total_shipping,
        {{ rutter_money("data->>'total_shipping_discount'") }} as total_shipping_discount,
        total_tax,
        data->'refunds' as refunds,
        data->'customer'->>'id' as customer_id,
        data->'customer'->>'email' as customer_email,
        data->'line_items' as line_items,
        data->'transactions' as transactions,
        created_at,
        updated_at,
        _synced_at as synced_at
    from source
    where _deleted_at is null

)

select * from renamed
