-- Monthly customer cohorts of a store: customers grouped by the month of their first sale (an order neither
-- cancelled nor with a failed payment), and for each later month up to the as-of month how many of them
-- bought again and what they spent (net merchandise: after discounts and refunds). `retention_rate` is the
-- share of the cohort active that month; month 0 is the cohort's own month.
with

orders as (

    select * from {{ ref('fct_orders') }}
    where is_sale and customer_id is not null

),

customer_months as (

    -- one row per customer and month they bought in: counting rows later is counting distinct customers
    select
        connection_id,
        customer_id,
        order_month as month,
        iso_currency_code as currency_code,
        sum(net_amount) as net_sales
    from orders
    where order_month <= date_trunc('month', {{ as_of_date() }})::date
    group by 1, 2, 3, 4

),

first_months as (

    select connection_id, customer_id, min(month) as cohort_month
    from customer_months
    group by 1, 2

),

cohort_sizes as (

    select connection_id, cohort_month, count(*) as cohort_size
    from first_months
    group by 1, 2

),

activity as (

    select
        customer_months.connection_id,
        first_months.cohort_month,
        customer_months.month,
        customer_months.currency_code,
        count(*) as active_customers,
        sum(customer_months.net_sales) as net_sales
    from customer_months
    inner join first_months
        on first_months.connection_id = customer_months.connection_id
        and first_months.customer_id = customer_months.customer_id
    group by 1, 2, 3, 4

),

final as (

    select
        activity.connection_id || '-' || to_char(activity.cohort_month, 'YYYY-MM') || '-'
            || to_char(activity.month, 'YYYY-MM') || '-' || coalesce(activity.currency_code, 'unknown')
            as cohort_month_id,
        activity.connection_id,
        activity.cohort_month,
        activity.month,
        (extract(year from age(activity.month, activity.cohort_month)) * 12
            + extract(month from age(activity.month, activity.cohort_month)))::int as months_since_first_order,
        activity.currency_code,
        cohort_sizes.cohort_size,
        activity.active_customers,
        round(activity.active_customers::numeric / cohort_sizes.cohort_size, 4) as retention_rate,
        activity.net_sales
    from activity
    inner join cohort_sizes
        on cohort_sizes.connection_id = activity.connection_id
        and cohort_sizes.cohort_month = activity.cohort_month

)

select * from final
