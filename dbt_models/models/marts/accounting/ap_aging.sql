-- One row per accounting connection: open bills by days past due at the as-of date.
with

bills as (

    select * from {{ ref('fct_bills') }}

),

final as (

    {{ aging_buckets_by_connection('bills', open_count_as='open_bill_count') }}

)

select * from final
