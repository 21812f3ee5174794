-- Sales of a store month by month, one row per store, month and currency (amounts are never added across
-- currencies). Every order placed counts in gross merchandise sales; net sales take off what was cancelled,
-- what failed to be paid, discounts and refunds. Tax and shipping are kept apart (never in sales). Refunds
-- count in the month they were made (see int_refunds_extracted for their dates), not the month of the order.
-- The month of the as-of date is still running: `is_partial_month`.
with

orders as (

    select * from {{ ref('fct_orders') }}

),

refunds as (

    select * from {{ ref('fct_refunds') }}
    where is_order_sale

),

monthly_orders as (

    select
        connection_id,
        iso_currency_code as currency_code,
        order_month as month,
        count(*) filter (where is_sale) as order_count,
        count(*) filter (where is_cancelled) as cancelled_order_count,
        count(*) filter (where is_payment_failed and not is_cancelled) as failed_payment_order_count,
        sum(total_line_items_price) as gross_merchandise_sales,
        coalesce(sum(total_line_items_price) filter (where is_cancelled), 0) as cancelled_sales,
        coalesce(sum(total_line_items_price) filter (where is_payment_failed and not is_cancelled), 0)
            as failed_payment_sales,
        coalesce(sum(total_discount) filter (where is_sale), 0) as discounts,
        coalesce(sum(merchandise_amount) filter (where is_sale), 0) as sales_before_refunds,
        -- sold but not (yet) known to be paid: in net sales, not yet cash
        coalesce(
            sum(merchandise_amount) filter (where is_sale and payment_status not in ('paid', 'refunded')), 0
        ) as unconfirmed_payment_sales,
        coalesce(sum(total_tax) filter (where is_sale), 0) as tax,
        coalesce(sum(total_shipping) filter (where is_sale), 0) as shipping,
        count(distinct customer_id) filter (where is_sale) as unique_customers,
        -- a repeat customer placed an order this month that was not their first order ever
        count(distinct customer_id) filter (where is_sale and customer_order_number > 1) as repeat_customers
    from orders
    group by 1, 2, 3

),

monthly_refunds as (

    select
        connection_id,
        iso_currency_code as currency_code,
        refund_month as month,
        count(*) as refund_count,
        sum(refund_amount) as refunds,
        coalesce(sum(refund_amount) filter (where refund_date_source = 'order_updated_at'), 0)
            as refunds_dated_by_order_update
    from refunds
    group by 1, 2, 3

),

bounds as (

    select connection_id, currency_code, min(month) as first_month, max(month) as last_month
    from (
        select connection_id, currency_code, month from monthly_orders
        union all
        select connection_id, currency_code, month from monthly_refunds
    ) as active_months
    group by 1, 2

),

months as (

    -- every month between a store's first and last activity, so quiet months show as zero
    select
        connection_id,
        currency_code,
        generate_series(first_month, last_month, interval '1 month')::date as month
    from bounds

),

monthly as (

    select
        months.connection_id,
        months.currency_code,
        months.month,
        coalesce(monthly_orders.order_count, 0) as order_count,
        coalesce(monthly_orders.cancelled_order_count, 0) as cancelled_order_count,
        coalesce(monthly_orders.failed_payment_order_count, 0) as failed_payment_order_count,
        coalesce(monthly_orders.gross_merchandise_sales, 0) as gross_merchandise_sales,
        coalesce(monthly_orders.cancelled_sales, 0) as cancelled_sales,
        coalesce(monthly_orders.failed_payment_sales, 0) as failed_payment_sales,
        coalesce(monthly_orders.discounts, 0) as discounts,
        coalesce(monthly_orders.sales_before_refunds, 0) as sales_before_refunds,
        coalesce(monthly_refunds.refund_count, 0) as refund_count,
        coalesce(monthly_refunds.refunds, 0) as refunds,
        coalesce(monthly_refunds.refunds_dated_by_order_update, 0) as refunds_dated_by_order_update,
        coalesce(monthly_orders.sales_before_refunds, 0) - coalesce(monthly_refunds.refunds, 0) as net_sales,
        coalesce(monthly_orders.unconfirmed_payment_sales, 0) as unconfirmed_payment_sales,
        coalesce(monthly_orders.tax, 0) as tax,
        coalesce(monthly_orders.shipping, 0) as shipping,
        coalesce(monthly_orders.unique_customers, 0) as unique_customers,
        coalesce(monthly_orders.repeat_customers, 0) as repeat_customers
    from months
    left join monthly_orders
        on monthly_orders.connection_id = months.connection_id
        and monthly_orders.currency_code is not distinct from months.currency_code
        and monthly_orders.month = months.month
    left join monthly_refunds
        on monthly_refunds.connection_id = months.connection_id
        and monthly_refunds.currency_code is not distinct from months.currency_code
        and monthly_refunds.month = months.month

),

final as (

    select
        connection_id || '-' || coalesce(currency_code, 'unknown') || '-' || to_char(month, 'YYYY-MM')
            as connection_month_id,
        connection_id,
        month,
        currency_code,
        month >= date_trunc('month', {{ as_of_date() }})::date as is_partial_month,
        order_count,
        cancelled_order_count,
        failed_payment_order_count,
        gross_merchandise_sales,
        cancelled_sales,
        failed_payment_sales,
        discounts,
        sales_before_refunds,
        refund_count,
        refunds,
        refunds_dated_by_order_update,
        net_sales,
        unconfirmed_payment_sales,
        tax,
        shipping,
        round(sales_before_refunds / nullif(order_count, 0), 2) as average_order_value,
        unique_customers,
        repeat_customers,
        round(refunds / nullif(sales_before_refunds, 0), 4) as refund_rate,
        round(
            (net_sales - lag(net_sales) over by_month) / nullif(abs(lag(net_sales) over by_month), 0), 4
        ) as net_sales_mom_growth,
        round(
            (gross_merchandise_sales - lag(gross_merchandise_sales) over by_month)
            / nullif(abs(lag(gross_merchandise_sales) over by_month), 0),
            4
        ) as gross_merchandise_sales_mom_growth
    from monthly
    window by_month as (partition by connection_id, currency_code order by month)

)

select * from final
