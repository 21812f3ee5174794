-- Every order's refunded amount is the sum of its refunds in fct_refunds, and an order the platform marks
-- refunded has refunds covering at least its merchandise (line items less discounts).
-- Reads two models: Dagster shows it as a check of fct_refunds (a singular test needs to be told which).
{{ config(meta={'dagster': {'ref': {'name': 'fct_refunds'}}}) }}

with

orders as (

    select * from {{ ref('fct_orders') }}

),

refunds as (

    select order_id, sum(refund_amount) as refund_amount
    from {{ ref('fct_refunds') }}
    group by 1

)

select orders.order_id, orders.payment_status, orders.merchandise_amount, orders.refunded_amount, refunds.refund_amount
from orders
left join refunds on refunds.order_id = orders.order_id
where orders.refunded_amount <> coalesce(refunds.refund_amount, 0)
    or (orders.payment_status = 'refunded' and orders.refunded_amount < orders.merchandise_amount)
