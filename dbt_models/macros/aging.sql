{#- Aging bucket of an open document from its days past due (as-of date minus due date). A document without
    a due date is treated as due on issue, the conservative reading for underwriting. -#}
{% macro aging_bucket(days_past_due) -%}
    case
        when {{ days_past_due }} is null or {{ days_past_due }} <= 0 then 'current'
        when {{ days_past_due }} <= 30 then 'days_1_30'
        when {{ days_past_due }} <= 60 then 'days_31_60'
        when {{ days_past_due }} <= 90 then 'days_61_90'
        else 'over_90'
    end
{%- endmacro %}

{#- One row per connection: the open amount due in each aging bucket of `fct_invoices` or `fct_bills`, with the
    count of open documents as `open_count_as`. -#}
{% macro aging_buckets_by_connection(documents, open_count_as) -%}
    select
        connection_id,
        max(as_of_date) as as_of_date,
        count(*) filter (where is_open) as {{ open_count_as }},
        coalesce(sum(amount_due) filter (where aging_bucket = 'current'), 0) as current_amount,
        coalesce(sum(amount_due) filter (where aging_bucket = 'days_1_30'), 0) as days_1_30_amount,
        coalesce(sum(amount_due) filter (where aging_bucket = 'days_31_60'), 0) as days_31_60_amount,
        coalesce(sum(amount_due) filter (where aging_bucket = 'days_61_90'), 0) as days_61_90_amount,
        coalesce(sum(amount_due) filter (where aging_bucket = 'over_90'), 0) as over_90_amount,
        coalesce(sum(amount_due) filter (where is_open), 0) as total_outstanding
    from {{ documents }}
    group by 1
{%- endmacro %}
