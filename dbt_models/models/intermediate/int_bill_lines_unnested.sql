with

bills as (

    select * from {{ ref('stg_rutter__accounting_bills') }}

),

final as (

    {{ unnest_document_lines('bills', document='bill', counterparty='vendor_id') }}

)

select * from final
