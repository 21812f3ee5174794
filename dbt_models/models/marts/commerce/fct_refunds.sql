-- Incremental by order (see macros/incremental.sql).
-- depends_on: {{ source('rutter', 'orders') }}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='order_id',
    on_schema_change='fail',
    indexes=[{'columns': ['order_id']}, {'columns': ['synced_at']}],
    pre_hook="{{ delete_orders_written_since_last_build() }}",
    post_hook="{{ delete_deleted_orders() }}",
) }}
with

refunds as (

    select * from {{ ref('int_refunds_extracted') }}
    {{- only_orders_written_since_last_build() }}

),

orders as (

    select * from {{ ref('fct_orders') }}
    {{- only_orders_written_since_last_build() }}

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
        refunds.refund_date_source,
        refunds.refund_basis,
        refunds.refunded_line_count,
        refunds.refunded_quantity,
        refunds.refund_amount,
        orders.iso_currency_code,
        orders.ordered_at,
        orders.is_cancelled as is_order_cancelled,
        orders.is_sale as is_order_sale,
        orders.synced_at
    from refunds
    inner join orders on orders.order_id = refunds.order_id

)

select * from final
