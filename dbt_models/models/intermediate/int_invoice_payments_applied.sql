-- One row per (payment, invoice) allocation from `invoice_payment.linked_invoices`; the allocated amount is a
-- string in 2024-08-31.
with

payments as (

    select * from {{ ref('stg_rutter__accounting_invoice_payments') }}

),

final as (

    {{ payments_applied(
        'payments', document='invoice', counterparty='customer_id',
        paid_on='txn_date', allocated_on_key='allocated_at', amount_key='amount'
    ) }}

)

select * from final
