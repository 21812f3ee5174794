-- Sales of a store month by month. Cancelled orders count neither as sales nor as refunds; refunds count in
-- the month they were made, not the month of the order. Amounts are in the store's currency (not converted).
with

orders as (

    select * from {{ ref('fct_orders') }}
    where not is_cancelled

),

refunds as (

    select * from {{ ref('fct_refunds') }}
    where not is_order_cancelled

),

monthly_orders as (

    select
        connection_id,
        order_month as month,
        count(*) as order_count,
        sum(total_price) as gross_sales,
        count(distinct customer_id) as unique_customers,
        -- a repeat customer placed an order this month that was not their first order ever
        count(distinct customer_id) filter (where customer_order_number > 1) as repeat_customers
    from orders
    group by 1, 2

),

monthly_refunds as (

    select
        connection_id,
        refund_month as month,
        count(*) as refund_count,
        sum(refund_amount) as refunds
    from refunds
    group by 1, 2

),

bounds as (

    select connection_id, min(month) as first_month, max(month) as last_month
    from (
        select connection_id, month from monthly_orders
        union all
        select connection_id, month from monthly_refunds
    ) as active_months
    group by 1

),

months as (

    -- every month between a store's first and last activity, so quiet months show as zero
    select
        connection_id,
        generate_series(first_month, last_month, interval '1 month')::date as month
    from bounds

),

monthly as (

    select
        months.connection_id,
        months.month,
        coalesce(monthly_orders.order_count, 0) as order_count,
        coalesce(monthly_orders.gross_sales, 0) as gross_sales,
        coalesce(monthly_refunds.refund_count, 0) as refund_count,
        coalesce(monthly_refunds.refunds, 0) as refunds,
        coalesce(monthly_orders.gross_sales, 0) - coalesce(monthly_refunds.refunds, 0) as net_sales,
        coalesce(monthly_orders.unique_customers, 0) as unique_customers,
        coalesce(monthly_orders.repeat_customers, 0) as repeat_customers
    from months
    left join monthly_orders
        on monthly_orders.connection_id = months.connection_id
        and monthly_orders.month = months.month
    left join monthly_refunds
        on monthly_refunds.connection_id = months.connection_id
        and monthly_refunds.month = months.month

),

final as (

    select
        connection_id || '-' || to_char(month, 'YYYY-MM') as connection_month_id,
        connection_id,
        month,
        order_count,
        gross_sales,
        refund_count,
        refunds,
        net_sales,
        round(gross_sales / nullif(order_count, 0), 2) as average_order_value,
        unique_customers,
        repeat_customers,
        round(refunds / nullif(gross_sales, 0), 4) as refund_rate,
        round(
            (net_sales - lag(net_sales) over by_month) / nullif(abs(lag(net_sales) over by_month), 0), 4
        ) as net_sales_mom_growth,
        round(
            (gross_sales - lag(gross_sales) over by_month) / nullif(abs(lag(gross_sales) over by_month), 0), 4
        ) as gross_sales_mom_growth
    from monthly
    window by_month as (partition by connection_id order by month)

)

select * from final
