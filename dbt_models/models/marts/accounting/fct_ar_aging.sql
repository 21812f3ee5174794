-- One row per accounting connection and currency: open invoices by days past due at the as-of date, open invoice
-- credit memos netted. The balances are those Rutter reported at the last sync: an aging of the run date.
with

invoices as (

    select * from {{ ref('fct_invoices') }}

),

credit_memos as (

    select * from {{ ref('stg_rutter__accounting_invoice_credit_memos') }}

),

final as (

    {{ aging_buckets_by_connection('invoices', open_count_as='open_invoice_count', credit_memos='credit_memos') }}

)

select * from final
