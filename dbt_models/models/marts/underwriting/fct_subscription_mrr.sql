-- Recurring revenue per store, month and currency from its subscriptions. A subscription's monthly recurring
-- revenue (MRR) is the sum of its items' amounts brought to a month (a yearly item counts a twelfth, a weekly
-- one 52/12, every `interval_count` intervals once). Rutter gives a subscription's status but no start or end
-- date: it is counted from the month it was created, and a cancelled one until the month of its last update
-- (when the cancellation was recorded); trials and paused subscriptions bring no revenue. Churned MRR is the
-- MRR of subscriptions counted last the month before; churn rate = churned MRR ÷ the previous month's MRR.
with

subscriptions as (

    select * from {{ ref('stg_rutter__subscriptions') }}

),

items as (

    select
        subscriptions.subscription_id,
        {{ rutter_money("item.value->>'amount'") }}
            * case item.value->>'interval'
                when 'day' then 365.0 / 12
                when 'week' then 52.0 / 12
                when 'month' then 1
                when 'year' then 1.0 / 12
            end
            / nullif(coalesce({{ rutter_money("item.value->>'interval_count'") }}, 1), 0) as monthly_amount
    from subscriptions
    cross join lateral jsonb_array_elements({{ rutter_array('subscriptions.items') }}) as item (value)

),

paying as (

    select
        subscriptions.subscription_id,
        subscriptions.connection_id,
        subscriptions.iso_currency_code as currency_code,
        date_trunc('month', subscriptions.created_at at time zone 'utc')::date as first_month,
        case
            when subscriptions.status = 'canceled'
                then date_trunc('month', subscriptions.updated_at at time zone 'utc')::date
            else date_trunc('month', {{ as_of_date() }})::date
        end as last_month,
        sum(items.monthly_amount) as mrr
    from subscriptions
    inner join items on items.subscription_id = subscriptions.subscription_id
    where subscriptions.status in ('active', 'canceled')
        and subscriptions.created_at is not null
    group by 1, 2, 3, 4, 5

),

subscription_months as (

    select
        paying.*,
        generate_series(paying.first_month, paying.last_month, interval '1 month')::date as month
    from paying

),

monthly as (

    select
        connection_id,
        currency_code,
        month,
        count(*) as paying_subscriptions,
        round(sum(mrr), 2) as mrr,
        round(coalesce(sum(mrr) filter (where month = first_month), 0), 2) as new_mrr
    from subscription_months
    where month <= date_trunc('month', {{ as_of_date() }})::date
    group by 1, 2, 3

),

churned as (

    -- subscriptions whose last paying month was the month before
    select
        connection_id,
        currency_code,
        (last_month + interval '1 month')::date as month,
        count(*) as churned_subscriptions,
        round(sum(mrr), 2) as churned_mrr
    from paying
    where last_month < date_trunc('month', {{ as_of_date() }})::date
    group by 1, 2, 3

),

final as (

    select
        monthly.connection_id || '-' || coalesce(monthly.currency_code, 'unknown') || '-'
            || to_char(monthly.month, 'YYYY-MM') as connection_month_id,
        monthly.connection_id,
        monthly.month,
        monthly.currency_code,
        monthly.paying_subscriptions,
        monthly.mrr,
        monthly.new_mrr,
        coalesce(churned.churned_subscriptions, 0) as churned_subscriptions,
        coalesce(churned.churned_mrr, 0) as churned_mrr,
        round(
            coalesce(churned.churned_mrr, 0) / nullif(lag(monthly.mrr) over by_month, 0), 4
        ) as mrr_churn_rate
    from monthly
    left join churned
        on churned.connection_id = monthly.connection_id
        and churned.currency_code is not distinct from monthly.currency_code
        and churned.month = monthly.month
    window by_month as (partition by monthly.connection_id, monthly.currency_code order by monthly.month)

)

select * from final
