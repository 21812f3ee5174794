-- Incremental by order (see macros/incremental.sql).
-- depends_on: {{ source('rutter', 'orders') }}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='order_id',
    on_schema_change='fail',
    indexes=[{'columns': ['order_id']}],
    pre_hook="{{ delete_orders_written_since_last_build() }}",
    post_hook="{{ delete_deleted_orders() }}",
) }}
with

order_lines as (

    select * from {{ ref('int_order_lines_unnested') }}
    {{- only_orders_written_since_last_build() }}

),

orders as (

    select * from {{ ref('fct_orders') }}
    {{- only_orders_written_since_last_build() }}

),

final as (

    select
        order_lines.order_line_id,
        order_lines.order_id,
        order_lines.connection_id,
        orders.customer_id,
        order_lines.line_number,
        order_lines.line_item_id,
        order_lines.product_id,
        order_lines.variant_id,
        order_lines.sku,
        order_lines.title,
        order_lines.quantity,
        order_lines.unit_price,
        order_lines.unit_cost,
        order_lines.line_amount,
        order_lines.iso_currency_code,
        order_lines.ordered_at,
        orders.order_month,
        orders.is_cancelled,
        orders.synced_at
    from order_lines
    inner join orders on orders.order_id = order_lines.order_id

)

select * from final
