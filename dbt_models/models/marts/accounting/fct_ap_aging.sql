-- One row per accounting connection and currency: open bills by days past due at the as-of date, open bill
-- credit memos netted. The balances are those Rutter reported at the last sync: an aging of the run date.
with

bills as (

    select * from {{ ref('fct_bills') }}

),

credit_memos as (

    select * from {{ ref('stg_rutter__accounting_bill_credit_memos') }}

),

final as (

    {{ aging_buckets_by_connection('bills', open_count_as='open_bill_count', credit_memos='credit_memos') }}

)

select * from final
