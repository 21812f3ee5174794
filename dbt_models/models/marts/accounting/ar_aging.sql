-- One row per accounting connection: open invoices by days past due at the as-of date.
with

invoices as (

    select * from {{ ref('fct_invoices') }}

),

final as (

    {{ aging_buckets_by_connection('invoices', open_count_as='open_invoice_count') }}

)

select * from final
