-- How much of a business rests on a few customers: per connection and currency, the share of the trailing
-- twelve months' sales (to the as-of date) and of today's open receivables held by the largest customer and
-- the five and ten largest. Stores: net merchandise of sales (orders less refunds) by customer; accounting
-- connections: invoiced amounts (not void, draft or rejected) by customer, and open invoices for receivables.
with

orders as (

    select * from {{ ref('fct_orders') }}
    where is_sale
        and customer_id is not null
        and (ordered_at at time zone 'utc')::date > {{ as_of_date() }} - interval '12 months'
        and (ordered_at at time zone 'utc')::date <= {{ as_of_date() }}

),

invoices as (

    select * from {{ ref('fct_invoices') }}
    where customer_id is not null

),

home as (

    select * from {{ ref('int_connection_currencies') }}

),

sales_by_customer as (

    select connection_id, iso_currency_code as currency_code, customer_id, sum(net_amount) as amount
    from orders
    group by 1, 2, 3
    union all
    select
        invoices.connection_id,
        coalesce(upper(invoices.currency_code), home.home_currency_code),
        invoices.customer_id,
        sum(invoices.total_amount)
    from invoices
    left join home on home.connection_id = invoices.connection_id
    where invoices.status not in ('void', 'draft', 'rejected')
        and invoices.issue_date > {{ as_of_date() }} - interval '12 months'
        and invoices.issue_date <= {{ as_of_date() }}
    group by 1, 2, 3

),

receivables_by_customer as (

    select
        invoices.connection_id,
        coalesce(upper(invoices.currency_code), home.home_currency_code) as currency_code,
        invoices.customer_id,
        sum(invoices.amount_due) as amount
    from invoices
    left join home on home.connection_id = invoices.connection_id
    where invoices.is_open
    group by 1, 2, 3

),

sales_ranked as (

    select *, row_number() over (partition by connection_id, currency_code order by amount desc, customer_id) as rank
    from sales_by_customer

),

receivables_ranked as (

    select *, row_number() over (partition by connection_id, currency_code order by amount desc, customer_id) as rank
    from receivables_by_customer

),

sales_shares as (

    select
        connection_id,
        currency_code,
        count(*) as customers_with_sales,
        sum(amount) as trailing_12_month_sales,
        round(sum(amount) filter (where rank = 1) / nullif(sum(amount), 0), 4) as top_1_sales_share,
        round(sum(amount) filter (where rank <= 5) / nullif(sum(amount), 0), 4) as top_5_sales_share,
        round(sum(amount) filter (where rank <= 10) / nullif(sum(amount), 0), 4) as top_10_sales_share
    from sales_ranked
    group by 1, 2

),

receivables_shares as (

    select
        connection_id,
        currency_code,
        count(*) as customers_with_receivables,
        sum(amount) as open_receivables,
        round(sum(amount) filter (where rank = 1) / nullif(sum(amount), 0), 4) as top_1_receivables_share,
        round(sum(amount) filter (where rank <= 5) / nullif(sum(amount), 0), 4) as top_5_receivables_share,
        round(sum(amount) filter (where rank <= 10) / nullif(sum(amount), 0), 4) as top_10_receivables_share
    from receivables_ranked
    group by 1, 2

),

final as (

    select
        coalesce(sales_shares.connection_id, receivables_shares.connection_id) as connection_id,
        coalesce(sales_shares.currency_code, receivables_shares.currency_code) as currency_code,
        {{ as_of_date() }} as as_of_date,
        coalesce(sales_shares.customers_with_sales, 0) as customers_with_sales,
        coalesce(sales_shares.trailing_12_month_sales, 0) as trailing_12_month_sales,
        sales_shares.top_1_sales_share,
        sales_shares.top_5_sales_share,
        sales_shares.top_10_sales_share,
        coalesce(receivables_shares.customers_with_receivables, 0) as customers_with_receivables,
        coalesce(receivables_shares.open_receivables, 0) as open_receivables,
        receivables_shares.top_1_receivables_share,
        receivables_shares.top_5_receivables_share,
        receivables_shares.top_10_receivables_share
    from sales_shares
    full outer join receivables_shares
        on receivables_shares.connection_id = sales_shares.connection_id
        and receivables_shares.currency_code is not distinct from sales_shares.currency_code

)

select * from final
