with

order_lines as (

    select * from {{ ref('int_order_lines_unnested') }}

),

orders as (

    select * from {{ ref('fct_orders') }}

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
        orders.is_cancelled
    from order_lines
    inner join orders on orders.order_id = order_lines.order_id

)

select * from final
