-- A table, incremental by order (see macros/incremental.sql): the orders' line items are unnested once per
-- change, and every commerce model reads them from here. It also carries the order's columns `fct_order_lines`
-- shows (customer, month, cancelled), so that mart is a view of this table rather than a second copy of the
-- lines joined to `fct_orders`.
-- depends_on: {{ source('rutter', 'orders') }}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='order_id',
    on_schema_change='fail',
    indexes=[{'columns': ['order_id']}, {'columns': ['synced_at']}],
    pre_hook="{{ delete_orders_written_since_last_build() }}",
    post_hook=["{{ delete_deleted_orders() }}", "analyze {{ this }}"],
) }}
with

orders as (

    select * from {{ ref('stg_rutter__orders') }}
    {{- only_orders_written_since_last_build() }}

),

unnested as (

    select
        orders.order_id,
        orders.connection_id,
        orders.created_at as ordered_at,
        orders.iso_currency_code as order_currency_code,
        orders.customer_id,
        orders.status,
        orders.synced_at,
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
        ordered_at,
        customer_id,
        date_trunc('month', ordered_at at time zone 'utc')::date as order_month,
        status = 'cancelled' as is_cancelled,
        synced_at
    from unnested

)

select * from final
