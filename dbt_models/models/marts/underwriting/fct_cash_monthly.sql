-- Money coming in per connection, month and currency: bank deposits recorded in the books (accounting
-- connections) and payouts from the sales platform to the merchant's bank (stores: paid payouts by arrival
-- date; those still in transit or pending counted apart; failed, cancelled and refunded ones left out).
-- Months after the as-of month never appear.
with

deposits as (

    select * from {{ ref('stg_rutter__accounting_bank_deposits') }}

),

payouts as (

    select * from {{ ref('stg_rutter__payouts') }}

),

home as (

    select * from {{ ref('int_connection_currencies') }}

),

monthly_deposits as (

    select
        deposits.connection_id,
        coalesce(upper(deposits.currency_code), home.home_currency_code) as currency_code,
        date_trunc('month', deposits.transaction_date)::date as month,
        count(*) as deposit_count,
        sum(deposits.total_amount) as deposits
    from deposits
    left join home on home.connection_id = deposits.connection_id
    where deposits.transaction_date is not null
    group by 1, 2, 3

),

monthly_payouts as (

    select
        payouts.connection_id,
        coalesce(upper(payouts.iso_currency_code), home.home_currency_code) as currency_code,
        date_trunc('month', coalesce(payouts.arrival_at, payouts.created_at) at time zone 'utc')::date as month,
        count(*) filter (where payouts.status = 'paid') as payout_count,
        coalesce(sum(payouts.amount) filter (where payouts.status = 'paid'), 0) as payouts_paid,
        coalesce(sum(payouts.amount) filter (where payouts.status in ('in_transit', 'pending')), 0)
            as payouts_in_transit
    from payouts
    left join home on home.connection_id = payouts.connection_id
    group by 1, 2, 3

),

final as (

    select
        coalesce(monthly_deposits.connection_id, monthly_payouts.connection_id) as connection_id,
        coalesce(monthly_deposits.month, monthly_payouts.month) as month,
        coalesce(monthly_deposits.currency_code, monthly_payouts.currency_code) as currency_code,
        coalesce(monthly_deposits.deposit_count, 0) as deposit_count,
        coalesce(monthly_deposits.deposits, 0) as deposits,
        coalesce(monthly_payouts.payout_count, 0) as payout_count,
        coalesce(monthly_payouts.payouts_paid, 0) as payouts_paid,
        coalesce(monthly_payouts.payouts_in_transit, 0) as payouts_in_transit
    from monthly_deposits
    full outer join monthly_payouts
        on monthly_payouts.connection_id = monthly_deposits.connection_id
        and monthly_payouts.currency_code is not distinct from monthly_deposits.currency_code
        and monthly_payouts.month = monthly_deposits.month
    where coalesce(monthly_deposits.month, monthly_payouts.month) <= date_trunc('month', {{ as_of_date() }})::date

)

select * from final
