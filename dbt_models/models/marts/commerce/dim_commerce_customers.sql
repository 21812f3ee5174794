-- Every customer of a store: those the platform lists and those only known from their orders (guest or
-- since-deleted customer records), so every order's customer can be found here.
with

customers as (

    select * from {{ ref('stg_rutter__customers') }}

),

orders as (

    select * from {{ ref('fct_orders') }}

),

order_customers as (

    select
        customer_id,
        connection_id,
        max(customer_email) as email,
        min(ordered_at) as first_ordered_at,
        max(ordered_at) as last_ordered_at,
        count(*) filter (where not is_cancelled) as order_count,
        coalesce(sum(total_price) filter (where not is_cancelled), 0) as lifetime_gross_sales,
        coalesce(sum(refunded_amount) filter (where not is_cancelled), 0) as lifetime_refunds
    from orders
    where customer_id is not null
    group by 1, 2

),

all_customers as (

    select customer_id, connection_id from customers
    union
    select customer_id, connection_id from order_customers

),

final as (

    select
        all_customers.customer_id,
        all_customers.connection_id,
        coalesce(customers.email, order_customers.email) as email,
        customers.first_name,
        customers.last_name,
        customers.created_at,
        customers.customer_id is not null as is_listed_by_platform,
        order_customers.first_ordered_at,
        order_customers.last_ordered_at,
        coalesce(order_customers.order_count, 0) as order_count,
        coalesce(order_customers.order_count, 0) > 1 as is_repeat_customer,
        coalesce(order_customers.lifetime_gross_sales, 0) as lifetime_gross_sales,
        coalesce(order_customers.lifetime_refunds, 0) as lifetime_refunds,
        coalesce(order_customers.lifetime_gross_sales, 0)
            - coalesce(order_customers.lifetime_refunds, 0) as lifetime_net_sales
    from all_customers
    left join customers
        on customers.customer_id = all_customers.customer_id
        and customers.connection_id = all_customers.connection_id
    left join order_customers
        on order_customers.customer_id = all_customers.customer_id
        and order_customers.connection_id = all_customers.connection_id

)

select * from final
