-- Gross margin of a store's sales per month and currency, where the platform gives the unit cost of what was
-- sold: (line revenue − unit cost × quantity) ÷ line revenue over the lines of sales (orders neither
-- cancelled nor with a failed payment) that carry a unit cost. `cost_coverage` is the share of line revenue
-- with a known cost: a margin on a small coverage says little. Line revenue is before order discounts and
-- refunds, which the platform does not allocate to lines.
with

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

orders as (

    select * from {{ ref('fct_orders') }}
    where is_sale

),

monthly as (

    select
        orders.connection_id,
        orders.iso_currency_code as currency_code,
        orders.order_month as month,
        sum(order_lines.line_amount) as line_revenue,
        coalesce(sum(order_lines.line_amount) filter (where order_lines.unit_cost is not null), 0)
            as costed_line_revenue,
        coalesce(sum(order_lines.unit_cost * order_lines.quantity) filter (where order_lines.unit_cost is not null), 0)
            as cost_of_goods_sold
    from order_lines
    inner join orders on orders.order_id = order_lines.order_id
    group by 1, 2, 3

),

final as (

    select
        connection_id || '-' || coalesce(currency_code, 'unknown') || '-' || to_char(month, 'YYYY-MM')
            as connection_month_id,
        connection_id,
        month,
        currency_code,
        line_revenue,
        costed_line_revenue,
        cost_of_goods_sold,
        costed_line_revenue - cost_of_goods_sold as gross_profit,
        round((costed_line_revenue - cost_of_goods_sold) / nullif(costed_line_revenue, 0), 4) as gross_margin,
        round(costed_line_revenue / nullif(line_revenue, 0), 4) as cost_coverage
    from monthly

)

select * from final
