with

orders as (

    select * from {{ ref('stg_rutter__orders') }}

),

order_lines as (

    select * from {{ ref('int_order_lines_unnested') }}

),

refunds as (

    select * from {{ ref('int_refunds_extracted') }}

),

line_totals as (

    select
        order_id,
        count(*) as line_count,
        sum(quantity) as item_quantity
    from order_lines
    group by 1

),

refund_totals as (

    select
        order_id,
        count(*) as refund_count,
        sum(refund_amount) as refunded_amount
    from refunds
    group by 1

),

final as (

    select
        orders.order_id,
        orders.connection_id,
        orders.customer_id,
        orders.customer_email,
        orders.order_number,
        orders.order_name,
        orders.created_at as ordered_at,
        date_trunc('month', orders.created_at at time zone 'utc')::date as order_month,
        orders.status,
        orders.payment_status,
        orders.fulfillment_status,
        orders.iso_currency_code,
        orders.total_price,
        orders.total_discount,
        orders.total_tax,
        orders.total_shipping,
        orders.total_line_items_price,
        coalesce(line_totals.line_count, 0) as line_count,
        coalesce(line_totals.item_quantity, 0) as item_quantity,
        coalesce(refund_totals.refund_count, 0) as refund_count,
        coalesce(refund_totals.refunded_amount, 0) as refunded_amount,
        orders.total_price - coalesce(refund_totals.refunded_amount, 0) as net_amount,
        -- the order's status is the platform's verdict; `cancelled_at` alone is kept for information
        orders.status = 'cancelled' as is_cancelled,
        orders.cancelled_at,
        case
            when orders.customer_id is not null then row_number() over (
                partition by orders.connection_id, orders.customer_id
                order by orders.created_at, orders.order_id
            )
        end as customer_order_number,
        orders.updated_at,
        orders.synced_at
    from orders
    left join line_totals on line_totals.order_id = orders.order_id
    left join refund_totals on refund_totals.order_id = orders.order_id

)

select * from final
