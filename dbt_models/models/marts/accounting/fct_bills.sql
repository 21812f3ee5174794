-- Open bills and their aging at the as-of date; `documents_outstanding` states the rules.
with

bills as (

    select * from {{ ref('stg_rutter__accounting_bills') }}

),

payments as (

    select * from {{ ref('int_bill_payments_applied') }}

),

final as (

    {{ documents_outstanding('bills', payments='payments', document='bill', counterparty='vendor_id') }}

)

select * from final
