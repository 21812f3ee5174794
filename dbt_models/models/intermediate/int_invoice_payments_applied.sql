-- One row per (payment, invoice) allocation from `invoice_payment.linked_invoices`; the allocated amount is a
-- string in 2024-08-31.
with

payments as (

    select * from {{ ref('stg_rutter__accounting_invoice_payments') }}

),

allocations as (

    select
        payments.invoice_payment_id,
        payments.connection_id,
        payments.customer_id,
        payments.txn_date,
        link.item,
        link.allocation_number
    from payments
    cross join lateral jsonb_array_elements(
        case
            when jsonb_typeof(payments.linked_invoices) = 'array' then payments.linked_invoices
            else '[]'::jsonb
        end
    ) with ordinality as link (item, allocation_number)

),

final as (

    select
        invoice_payment_id || '-' || allocation_number as invoice_payment_allocation_id,
        invoice_payment_id,
        item->>'id' as invoice_id,
        connection_id,
        customer_id,
        coalesce(
            ({{ rutter_timestamp("item->>'allocated_at'") }} at time zone 'utc')::date, txn_date
        ) as applied_on,
        {{ rutter_money("item->>'amount'") }} as applied_amount
    from allocations

)

select * from final
