-- Incremental by order (see macros/incremental.sql). An order's `customer_order_number` depends on the
-- customer's other orders, so a build redoes the orders written since the last one and renumbers every order
-- of their customers (old and new customer, when an order changed hands) from the rows already built.
-- depends_on: {{ source('rutter', 'orders') }}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='order_id',
    on_schema_change='fail',
    indexes=[{'columns': ['order_id'], 'unique': True}, {'columns': ['connection_id', 'customer_id']}],
    post_hook=[
        "{{ delete_deleted_orders() }}",
        "analyze {{ this }}",
    ],
) }}
with

orders as (

    select * from {{ ref('stg_rutter__orders') }}
    {{- only_orders_written_since_last_build() }}

),

order_lines as (

    select * from {{ ref('int_order_lines_unnested') }}
    {{- only_orders_written_since_last_build() }}

),

refunds as (

    select * from {{ ref('int_refunds_extracted') }}
    {{- only_orders_written_since_last_build() }}

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
        sum(refund_amount) as refunded_amount,
        coalesce(sum(refund_amount) filter (where refund_basis = 'refund_lines'), 0) as itemized_refund_amount
    from refunds
    group by 1

),

built as (

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
        coalesce(orders.total_line_items_price, 0) - coalesce(orders.total_discount, 0) as merchandise_amount,
        coalesce(line_totals.line_count, 0) as line_count,
        coalesce(line_totals.item_quantity, 0) as item_quantity,
        coalesce(refund_totals.refund_count, 0) as refund_count,
        coalesce(refund_totals.refunded_amount, 0) as refunded_amount,
        coalesce(refund_totals.itemized_refund_amount, 0) as itemized_refund_amount,
        coalesce(orders.total_line_items_price, 0) - coalesce(orders.total_discount, 0)
            - coalesce(refund_totals.refunded_amount, 0) as net_amount,
        -- the order's status is the platform's verdict; `cancelled_at` alone is kept for information
        orders.status = 'cancelled' as is_cancelled,
        coalesce(orders.payment_status = 'failed', false) as is_payment_failed,
        -- a sale: neither cancelled nor with a failed (or voided) payment
        orders.status is distinct from 'cancelled' and orders.payment_status is distinct from 'failed' as is_sale,
        orders.cancelled_at,
        orders.updated_at,
        orders.synced_at
    from orders
    left join line_totals on line_totals.order_id = orders.order_id
    left join refund_totals on refund_totals.order_id = orders.order_id

),

{% if is_incremental() -%}
written as (

    {{ orders_written_since_last_build() }}

),

customers_to_renumber as (

    select connection_id, customer_id from built where customer_id is not null
    union
    select connection_id, customer_id from {{ this }}
    where order_id in (select id from written) and customer_id is not null

),

to_number as (

    select * from built
    union all
    -- the other orders of those customers, unchanged but possibly renumbered
    select
        {%- for column in ['order_id', 'connection_id', 'customer_id', 'customer_email', 'order_number',
                           'order_name', 'ordered_at', 'order_month', 'status', 'payment_status',
                           'fulfillment_status', 'iso_currency_code', 'total_price', 'total_discount',
                           'total_tax', 'total_shipping', 'total_line_items_price', 'merchandise_amount',
                           'line_count', 'item_quantity', 'refund_count', 'refunded_amount',
                           'itemized_refund_amount', 'net_amount', 'is_cancelled', 'is_payment_failed',
                           'is_sale', 'cancelled_at', 'updated_at', 'synced_at'] %}
        existing.{{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ this }} as existing
    inner join customers_to_renumber
        on customers_to_renumber.connection_id = existing.connection_id
        and customers_to_renumber.customer_id = existing.customer_id
    where existing.order_id not in (select id from written)

),
{%- else -%}
to_number as (

    select * from built

),
{%- endif %}

final as (

    select
        order_id,
        connection_id,
        customer_id,
        customer_email,
        order_number,
        order_name,
        ordered_at,
        order_month,
        status,
        payment_status,
        fulfillment_status,
        iso_currency_code,
        total_price,
        total_discount,
        total_tax,
        total_shipping,
        total_line_items_price,
        merchandise_amount,
        line_count,
        item_quantity,
        refund_count,
        refunded_amount,
        itemized_refund_amount,
        net_amount,
        is_cancelled,
        is_payment_failed,
        is_sale,
        cancelled_at,
        case
            when customer_id is not null then row_number() over (
                partition by connection_id, customer_id
                order by ordered_at, order_id
            )
        end as customer_order_number,
        updated_at,
        synced_at
    from to_number

)

select * from final
