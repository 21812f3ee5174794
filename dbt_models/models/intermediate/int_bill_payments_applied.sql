-- One row per (payment, bill) allocation from `bill_payment.linked_bills`; voided payments apply nothing.
with

payments as (

    select * from {{ ref('stg_rutter__accounting_bill_payments') }}
    where status is distinct from 'void'

),

final as (

    {{ payments_applied(
        'payments', document='bill', counterparty='vendor_id',
        paid_on='transaction_date', allocated_on_key='allocated_date', amount_key='allocated_amount'
    ) }}

)

select * from final
