with

orders as (

    select * from {{ ref('stg_rutter__orders') }}

),

unnested as (

    select
        orders.order_id,
        orders.connection_id,
        orders.created_at as ordered_at,
        orders.iso_currency_code as order_currency_code,
        line.item,
        line.line_number
    from orders
    cross join lateral jsonb_array_elements({{ rutter_array('orders.line_items') }})
        with ordinality as line (item, line_number)

),

final as (

    select
        -- line item ids are not guaranteed unique across orders; the position within the order is
        order_id || '-' || line_number as order_line_id,
        order_id,
        connection_id,
        line_number,
        item->>'id' as line_item_id,
        item->>'product_id' as product_id,
        item->>'variant_id' as variant_id,
        item->>'sku' as sku,
        item->>'title' as title,
        {{ rutter_money("item->>'quantity'") }} as quantity,
        {{ rutter_money("item->>'price'") }} as unit_price,
        {{ rutter_money("item->>'unit_cost'") }} as unit_cost,
        {{ rutter_money("item->>'price'") }} * {{ rutter_money("item->>'quantity'") }} as line_amount,
        coalesce(item->>'iso_currency_code', order_currency_code) as iso_currency_code,
        ordered_at
    from unnested

)

select * from final
