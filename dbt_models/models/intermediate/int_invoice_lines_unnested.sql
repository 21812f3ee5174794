with

invoices as (

    select * from {{ ref('stg_rutter__accounting_invoices') }}

),

final as (

    {{ unnest_document_lines('invoices', document='invoice', counterparty='customer_id') }}

)

select * from final
