-- One row per accounting connection: open bills by days past due at the as-of date.
with

bills as (

    select * from {{ ref('fct_bills') }}

),

final as (

    select
        connection_id,
        max(as_of_date) as as_of_date,
        count(*) filter (where is_open) as open_bill_count,
        coalesce(sum(amount_due) filter (where aging_bucket = 'current'), 0) as current_amount,
        coalesce(sum(amount_due) filter (where aging_bucket = 'days_1_30'), 0) as days_1_30_amount,
        coalesce(sum(amount_due) filter (where aging_bucket = 'days_31_60'), 0) as days_31_60_amount,
        coalesce(sum(amount_due) filter (where aging_bucket = 'days_61_90'), 0) as days_61_90_amount,
        coalesce(sum(amount_due) filter (where aging_bucket = 'over_90'), 0) as over_90_amount,
        coalesce(sum(amount_due) filter (where is_open), 0) as total_outstanding
    from bills
    group by 1

)

select * from final
