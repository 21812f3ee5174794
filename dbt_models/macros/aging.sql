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

{#- One row per connection and currency: the open amount due in each aging bucket of `fct_invoices` or
    `fct_bills`, with the count of open documents as `open_count_as`, and the open credit memos of the same
    side (`credit_memos`, a staging model) netted: credit the business has issued (or received) and not yet
    applied reduces what is owed. The amounts are the balances Rutter reported at the last sync
    (`balances_synced_at`), aged at the as-of date: an aging of the run date, not a rebuilt past aging.
    A document without a currency code is in its connection's home currency (`int_connection_currencies`). -#}
{% macro aging_buckets_by_connection(documents, open_count_as, credit_memos) -%}
    with

    home as (

        select * from {{ ref('int_connection_currencies') }}

    ),

    buckets as (

        select
            documents.connection_id,
            coalesce(upper(documents.currency_code), home.home_currency_code) as currency_code,
            max(as_of_date) as as_of_date,
            max(last_synced_at) as balances_synced_at,
            count(*) filter (where is_open) as {{ open_count_as }},
            coalesce(sum(amount_due) filter (where aging_bucket = 'current'), 0) as current_amount,
            coalesce(sum(amount_due) filter (where aging_bucket = 'days_1_30'), 0) as days_1_30_amount,
            coalesce(sum(amount_due) filter (where aging_bucket = 'days_31_60'), 0) as days_31_60_amount,
            coalesce(sum(amount_due) filter (where aging_bucket = 'days_61_90'), 0) as days_61_90_amount,
            coalesce(sum(amount_due) filter (where aging_bucket = 'over_90'), 0) as over_90_amount,
            coalesce(sum(amount_due) filter (where is_open), 0) as total_outstanding
        from {{ documents }} as documents
        left join home on home.connection_id = documents.connection_id
        group by 1, 2

    ),

    open_credits as (

        select
            credit_memos.connection_id,
            coalesce(upper(credit_memos.currency_code), home.home_currency_code) as currency_code,
            count(*) as open_credit_memo_count,
            sum(credit_memos.remaining_amount) as open_credit_memos
        from {{ credit_memos }} as credit_memos
        left join home on home.connection_id = credit_memos.connection_id
        where remaining_amount > 0
            and lower(status) not in ('void', 'draft', 'applied', 'paid', 'rejected')
            and coalesce(issue_date, {{ as_of_date() }}) <= {{ as_of_date() }}
        group by 1, 2

    )

    select
        coalesce(buckets.connection_id, open_credits.connection_id) as connection_id,
        coalesce(buckets.currency_code, open_credits.currency_code) as currency_code,
        coalesce(buckets.as_of_date, {{ as_of_date() }}) as as_of_date,
        buckets.balances_synced_at,
        coalesce(buckets.{{ open_count_as }}, 0) as {{ open_count_as }},
        coalesce(buckets.current_amount, 0) as current_amount,
        coalesce(buckets.days_1_30_amount, 0) as days_1_30_amount,
        coalesce(buckets.days_31_60_amount, 0) as days_31_60_amount,
        coalesce(buckets.days_61_90_amount, 0) as days_61_90_amount,
        coalesce(buckets.over_90_amount, 0) as over_90_amount,
        coalesce(buckets.total_outstanding, 0) as total_outstanding,
        coalesce(open_credits.open_credit_memo_count, 0) as open_credit_memo_count,
        coalesce(open_credits.open_credit_memos, 0) as open_credit_memos,
        coalesce(buckets.total_outstanding, 0) - coalesce(open_credits.open_credit_memos, 0) as net_outstanding
    from buckets
    full outer join open_credits
        on open_credits.connection_id = buckets.connection_id
        and open_credits.currency_code is not distinct from buckets.currency_code
{%- endmacro %}
