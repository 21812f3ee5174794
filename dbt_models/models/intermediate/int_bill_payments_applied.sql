-- One row per (payment, bill) allocation from `bill_payment.linked_bills`; voided payments apply nothing.
with

payments as (

    select * from {{ ref('stg_rutter__accounting_bill_payments') }}

),

allocations as (

    select
        payments.bill_payment_id,
        payments.connection_id,
        payments.vendor_id,
        payments.transaction_date,
        link.item,
        link.allocation_number
    from payments
    cross join lateral jsonb_array_elements(
        case
            when jsonb_typeof(payments.linked_bills) = 'array' then payments.linked_bills
            else '[]'::jsonb
        end
    ) with ordinality as link (item, allocation_number)
    where payments.status is distinct from 'void'

),

final as (

    select
        bill_payment_id || '-' || allocation_number as bill_payment_allocation_id,
        bill_payment_id,
        item->>'id' as bill_id,
        connection_id,
        vendor_id,
        coalesce(
            ({{ rutter_timestamp("item->>'allocated_date'") }} at time zone 'utc')::date, transaction_date
        ) as applied_on,
        {{ rutter_money("item->>'allocated_amount'") }} as applied_amount
    from allocations

)

select * from final
