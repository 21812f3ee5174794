-- Open invoices and their aging at the as-of date; `documents_outstanding` states the rules.
with

invoices as (

    select * from {{ ref('stg_rutter__accounting_invoices') }}

),

payments as (

    select * from {{ ref('int_invoice_payments_applied') }}

),

final as (

    {{ documents_outstanding('invoices', payments='payments', document='invoice', counterparty='customer_id') }}

)

select * from final
