-- Incremental by order (see macros/incremental.sql). An order's `customer_order_number` depends on the
-- customer's other orders, so a build redoes the orders written since the last one and renumbers, from the rows
-- already built, every order of the customers who gained, lost or re-dated an order (an order added, deleted,
-- moved to another customer: the old and the new one, or given another date); the others keep their numbers.
-- depends_on: {{ source('rutter', 'orders') }}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='order_id',
    on_schema_change='fail',
    indexes=[
        {'columns': ['order_id'], 'unique': True},
        {'columns': ['connection_id', 'customer_id']},
        {'columns': ['synced_at']},
    ],
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

previous as (

    -- the rows the written orders had before (none for a new order)
    select order_id, connection_id, customer_id, ordered_at, customer_order_number from {{ this }}
    where order_id in (select id from written)

),

customers_to_renumber as (

    -- only customers whose orders' places may have changed: an order added, deleted, moved to another customer
    -- or re-dated; an order edited otherwise keeps its number, and so do its customer's other orders
    select built.connection_id, built.customer_id
    from built
    left join previous on previous.order_id = built.order_id
    where built.customer_id is not null
        and (
            previous.order_id is null
            or previous.connection_id is distinct from built.connection_id
            or previous.customer_id is distinct from built.customer_id
            or previous.ordered_at is distinct from built.ordered_at
        )
    union
    select previous.connection_id, previous.customer_id
    from previous
    left join built on built.order_id = previous.order_id
    where previous.customer_id is not null
        and (
            built.order_id is null
            or previous.connection_id is distinct from built.connection_id
            or previous.customer_id is distinct from built.customer_id
            or previous.ordered_at is distinct from built.ordered_at
        )

),

to_number as (

    select
        built.*,
        -- the number an order keeps when its customer is not renumbered
        case when customers_to_renumber.customer_id is null then previous.customer_order_number end as kept_number
    from built
    left join previous on previous.order_id = built.order_id
    left join customers_to_renumber
        on customers_to_renumber.connection_id = built.connection_id
        and customers_to_renumber.customer_id = built.customer_id
    union all
    -- the other orders of the customers renumbered, unchanged but possibly renumbered
    select
        {%- for column in ['order_id', 'connection_id', 'customer_id', 'customer_email', 'order_number',
                           'order_name', 'ordered_at', 'order_month', 'status', 'payment_status',
                           'fulfillment_status', 'iso_currency_code', 'total_price', 'total_discount',
                           'total_tax', 'total_shipping', 'total_line_items_price', 'merchandise_amount',
                           'line_count', 'item_quantity', 'refund_count', 'refunded_amount',
                           'itemized_refund_amount', 'net_amount', 'is_cancelled', 'is_payment_failed',
                           'is_sale', 'cancelled_at', 'updated_at', 'synced_at'] %}
        existing.{{ column }},
        {%- endfor %}
        null::bigint as kept_number
    from {{ this }} as existing
    inner join customers_to_renumber
        on customers_to_renumber.connection_id = existing.connection_id
        and customers_to_renumber.customer_id = existing.customer_id
    where existing.order_id not in (select id from written)

),
{%- else -%}
to_number as (

    select *, null::bigint as kept_number from built

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
            when customer_id is not null then coalesce(kept_number, row_number() over (
                partition by connection_id, customer_id
                order by ordered_at, order_id
            ))
        end as customer_order_number,
        updated_at,
        synced_at
    from to_number

)

select * from final
