-- Rutter embeds refunds in `order.refunds[]` without an id or a date. A refund is identified by its position
-- in the order; its date is that of the order's refund transaction in the same position (refund
-- transactions ordered by time), or the order's last update when the platform reports no such transaction
-- (`refund_date_source` says which).
-- An order whose payment status is `refunded` was refunded in full: when its refund lines add up to less than
-- its merchandise (line items less discounts), one more row, `<order_id>-refund-status`, holds the difference,
-- dated like the order's last refund, so the refunds of an order always reconcile with its status.
-- A table, incremental by order (see macros/incremental.sql): the orders' JSON is read once per change.
-- depends_on: {{ source('rutter', 'orders') }}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='order_id',
    on_schema_change='fail',
    indexes=[{'columns': ['order_id']}, {'columns': ['synced_at']}],
    pre_hook="{{ delete_orders_written_since_last_build() }}",
    post_hook=["{{ delete_deleted_orders() }}", "analyze {{ this }}"],
) }}
with

orders_written as (

    select * from {{ ref('stg_rutter__orders') }}
    {{- only_orders_written_since_last_build() }}

),

orders as (

    -- only the orders that can have a refund row: with refund lines, or marked refunded (about one in twenty);
    -- the columns used, not `*`: read three times below, this CTE is materialized, and every JSON field of the
    -- view would be extracted from each order's `data`
    select
        order_id,
        connection_id,
        payment_status,
        total_line_items_price,
        total_discount,
        refunds,
        transactions,
        updated_at,
        synced_at
    from orders_written
    where payment_status = 'refunded' or {{ rutter_array('refunds') }} <> '[]'::jsonb

),

order_lines as (

    select * from {{ ref('int_order_lines_unnested') }}
    {{- only_orders_written_since_last_build() }}

),

refunds as (

    select
        orders.order_id,
        orders.connection_id,
        orders.updated_at as order_updated_at,
        orders.synced_at as order_synced_at,
        refund.body,
        refund.refund_number
    from orders
    cross join lateral jsonb_array_elements({{ rutter_array('orders.refunds') }})
        with ordinality as refund (body, refund_number)

),

refund_lines as (

    select
        refunds.order_id,
        refunds.refund_number,
        line.item->>'line_item_id' as line_item_id,
        {{ rutter_money("line.item->>'quantity'") }} as quantity,
        {{ rutter_money("line.item->>'amount'") }} as amount
    from refunds
    cross join lateral jsonb_array_elements({{ rutter_array("refunds.body->'line_items'") }}) as line (item)

),

refund_lines_priced as (

    -- a refund line without an amount refunds its quantity at the order line's unit price
    select
        refund_lines.order_id,
        refund_lines.refund_number,
        refund_lines.quantity,
        coalesce(refund_lines.amount, refund_lines.quantity * order_lines.unit_price) as amount
    from refund_lines
    left join order_lines
        on order_lines.order_id = refund_lines.order_id
        and order_lines.line_item_id = refund_lines.line_item_id

),

refund_totals as (

    select
        order_id,
        refund_number,
        count(*) as refunded_line_count,
        sum(quantity) as refunded_quantity,
        sum(amount) as refund_amount
    from refund_lines_priced
    group by 1, 2

),

refund_transactions as (

    select
        orders.order_id,
        {{ rutter_timestamp("txn.body->>'created_at'") }} as refunded_at,
        row_number() over (
            partition by orders.order_id
            order by {{ rutter_timestamp("txn.body->>'created_at'") }}, txn.body->>'id'
        ) as refund_number
    from orders
    cross join lateral jsonb_array_elements({{ rutter_array('orders.transactions') }}) as txn (body)
    where txn.body->>'type' = 'refund'

),

itemized as (

    select
        refunds.order_id || '-refund-' || refunds.refund_number as refund_id,
        refunds.order_id,
        refunds.connection_id,
        refunds.refund_number,
        refunds.order_synced_at as synced_at,
        coalesce(refund_transactions.refunded_at, refunds.order_updated_at) as refunded_at,
        refund_transactions.refunded_at is not null as has_refund_transaction,
        case
            when refund_transactions.refunded_at is not null then 'refund_transaction' else 'order_updated_at'
        end as refund_date_source,
        'refund_lines' as refund_basis,
        coalesce(refund_totals.refunded_line_count, 0) as refunded_line_count,
        coalesce(refund_totals.refunded_quantity, 0) as refunded_quantity,
        coalesce(refund_totals.refund_amount, 0) as refund_amount
    from refunds
    left join refund_totals
        on refund_totals.order_id = refunds.order_id
        and refund_totals.refund_number = refunds.refund_number
    left join refund_transactions
        on refund_transactions.order_id = refunds.order_id
        and refund_transactions.refund_number = refunds.refund_number

),

itemized_by_order as (

    select
        order_id,
        sum(refund_amount) as itemized_amount,
        count(*) as refund_count
    from itemized
    group by 1

),

last_refund_transaction as (

    select order_id, max(refunded_at) as refunded_at
    from refund_transactions
    group by 1

),

status_remainders as (

    -- a fully refunded order's merchandise not accounted for by its refund lines
    select
        orders.order_id || '-refund-status' as refund_id,
        orders.order_id,
        orders.connection_id,
        coalesce(itemized_by_order.refund_count, 0) + 1 as refund_number,
        orders.synced_at,
        coalesce(last_refund_transaction.refunded_at, orders.updated_at) as refunded_at,
        last_refund_transaction.refunded_at is not null as has_refund_transaction,
        case
            when last_refund_transaction.refunded_at is not null then 'refund_transaction' else 'order_updated_at'
        end as refund_date_source,
        'payment_status' as refund_basis,
        0::bigint as refunded_line_count,
        0::numeric as refunded_quantity,
        coalesce(orders.total_line_items_price, 0) - coalesce(orders.total_discount, 0)
            - coalesce(itemized_by_order.itemized_amount, 0) as refund_amount
    from orders
    left join itemized_by_order on itemized_by_order.order_id = orders.order_id
    left join last_refund_transaction on last_refund_transaction.order_id = orders.order_id
    where orders.payment_status = 'refunded'
        and coalesce(orders.total_line_items_price, 0) - coalesce(orders.total_discount, 0)
            > coalesce(itemized_by_order.itemized_amount, 0)

),

final as (

    select * from itemized
    union all
    select * from status_remainders

)

select * from final
