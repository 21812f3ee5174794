-- A view of `int_order_lines_unnested`, which already holds every live order's lines with the order's customer,
-- month and cancellation (the same as in `fct_orders`): a table would be a second copy of the lines to write.
{{ config(materialized='view') }}
with

order_lines as (

    select * from {{ ref('int_order_lines_unnested') }}

),

final as (

    select
        order_line_id,
        order_id,
        connection_id,
        customer_id,
        line_number,
        line_item_id,
        product_id,
        variant_id,
        sku,
        title,
        quantity,
        unit_price,
        unit_cost,
        line_amount,
        iso_currency_code,
        ordered_at,
        order_month,
        is_cancelled,
        synced_at
    from order_lines

)

select * from final
