with

refunds as (

    select * from {{ ref('int_refunds_extracted') }}

),

orders as (

    select * from {{ ref('fct_orders') }}

),

final as (

    select
        refunds.refund_id,
        refunds.order_id,
        refunds.connection_id,
        orders.customer_id,
        refunds.refund_number,
        refunds.refunded_at,
        date_trunc('month', refunds.refunded_at at time zone 'utc')::date as refund_month,
        refunds.has_refund_transaction,
        refunds.refunded_line_count,
        refunds.refunded_quantity,
        refunds.refund_amount,
        orders.iso_currency_code,
        orders.ordered_at,
        orders.is_cancelled as is_order_cancelled
    from refunds
    inner join orders on orders.order_id = refunds.order_id

)

select * from final
