-- One row per connection with what an underwriter reads, for the latest complete month (the month before the
-- as-of month): sales, margins, P&L, receivables and payables, liquidity and leverage, customer concentration,
-- cash in, recurring revenue and retention. Money is in the connection's home currency (`currency_code`;
-- figures in other currencies stay in the per-currency marts), and the main amounts again in the reporting
-- currency (`*_reporting`) where Rutter gives a rate, else null with `is_convertible` false.
-- Point-in-time figures (aging, concentration of receivables, bank balance) are those of the last sync.
with

connections as (

    select * from {{ ref('stg_rutter__connections') }}

),

overview as (

    select * from {{ ref('fct_connection_overview') }}

),

home as (

    select * from {{ ref('int_connection_currencies') }}

),

conversions as (

    select * from {{ ref('dim_currency_conversions') }}

),

sales as (

    select * from {{ ref('fct_commerce_monthly_sales') }}

),

commerce_margin as (

    select * from {{ ref('fct_commerce_gross_margin') }}

),

pnl as (

    select * from {{ ref('fct_monthly_pnl') }}
    where is_preferred

),

ar as (

    select * from {{ ref('fct_ar_aging') }}

),

ap as (

    select * from {{ ref('fct_ap_aging') }}

),

working_capital as (

    select * from {{ ref('fct_working_capital') }}

),

ratios as (

    select * from {{ ref('fct_balance_sheet_ratios') }}

),

concentration as (

    select * from {{ ref('fct_customer_concentration') }}

),

cash as (

    select * from {{ ref('fct_cash_monthly') }}

),

bank_accounts as (

    select * from {{ ref('dim_accounts') }}
    where account_type = 'bank'

),

mrr as (

    select * from {{ ref('fct_subscription_mrr') }}

),

cohorts as (

    select * from {{ ref('fct_customer_cohorts') }}

),

base as (

    select
        overview.connection_id,
        coalesce(connections.platform, overview.platform) as platform,
        overview.family,
        (date_trunc('month', {{ as_of_date() }}) - interval '1 month')::date as summary_month,
        {{ as_of_date() }} as as_of_date,
        home.home_currency_code as currency_code,
        '{{ var("reporting_currency") | upper }}' as reporting_currency
    from overview
    left join connections on connections.connection_id = overview.connection_id
    left join home on home.connection_id = overview.connection_id

),

latest_ratios as (

    select distinct on (ratios.connection_id) ratios.*
    from ratios
    inner join base on base.connection_id = ratios.connection_id
    where ratios.month <= base.summary_month
        and ratios.currency_code is not distinct from base.currency_code
    order by ratios.connection_id, ratios.month desc

),

bank_balances as (

    select bank_accounts.connection_id, sum(bank_accounts.balance) as bank_balance
    from bank_accounts
    inner join base on base.connection_id = bank_accounts.connection_id
    where coalesce(upper(bank_accounts.currency_code), base.currency_code) is not distinct from base.currency_code
    group by 1

),

final as (

    select
        base.connection_id,
        base.platform,
        base.family,
        base.summary_month,
        base.as_of_date,
        base.currency_code,
        -- commerce
        sales.gross_merchandise_sales,
        sales.net_sales,
        sales.order_count,
        sales.average_order_value,
        sales.refund_rate,
        sales.net_sales_mom_growth,
        round(sales.repeat_customers::numeric / nullif(sales.unique_customers, 0), 4) as repeat_customer_share,
        commerce_margin.gross_margin as commerce_gross_margin,
        commerce_margin.cost_coverage as commerce_cost_coverage,
        -- of the customers who first bought three months before, the share who bought in the month
        round(coalesce(cohort_month_3.active_customers, 0)::numeric / cohort_start.cohort_size, 4)
            as cohort_retention_month_3,
        mrr.mrr,
        mrr.mrr_churn_rate,
        cash.payouts_paid,
        -- accounting
        pnl.source as pnl_source,
        pnl.basis as pnl_basis,
        pnl.revenue,
        pnl.gross_profit,
        pnl.net_income,
        pnl.gross_margin,
        pnl.net_margin,
        ar.total_outstanding as receivables_outstanding,
        ar.net_outstanding as receivables_net_of_credits,
        round(ar.over_90_amount / nullif(ar.total_outstanding, 0), 4) as receivables_over_90_share,
        ap.total_outstanding as payables_outstanding,
        working_capital.dso_days,
        working_capital.dpo_days,
        latest_ratios.month as balance_sheet_month,
        latest_ratios.current_ratio,
        latest_ratios.quick_ratio,
        latest_ratios.working_capital,
        latest_ratios.leverage,
        latest_ratios.debt_ratio,
        concentration.top_1_sales_share,
        concentration.top_5_sales_share,
        concentration.top_1_receivables_share,
        concentration.top_5_receivables_share,
        cash.deposits,
        bank_balances.bank_balance,
        -- the same in the reporting currency, where Rutter gives a rate
        base.reporting_currency,
        conversions.rate_to_reporting,
        coalesce(conversions.is_convertible, false) as is_convertible,
        round(sales.net_sales * conversions.rate_to_reporting, 2) as net_sales_reporting,
        round(pnl.revenue * conversions.rate_to_reporting, 2) as revenue_reporting,
        round(pnl.net_income * conversions.rate_to_reporting, 2) as net_income_reporting,
        round(ar.total_outstanding * conversions.rate_to_reporting, 2) as receivables_outstanding_reporting,
        round(ap.total_outstanding * conversions.rate_to_reporting, 2) as payables_outstanding_reporting,
        round(mrr.mrr * conversions.rate_to_reporting, 2) as mrr_reporting
    from base
    left join conversions
        on conversions.connection_id = base.connection_id
        and conversions.currency_code = base.currency_code
    left join sales
        on sales.connection_id = base.connection_id
        and sales.currency_code is not distinct from base.currency_code
        and sales.month = base.summary_month
    left join commerce_margin
        on commerce_margin.connection_id = base.connection_id
        and commerce_margin.currency_code is not distinct from base.currency_code
        and commerce_margin.month = base.summary_month
    left join cohorts as cohort_start
        on cohort_start.connection_id = base.connection_id
        and cohort_start.currency_code is not distinct from base.currency_code
        and cohort_start.cohort_month = (base.summary_month - interval '3 months')::date
        and cohort_start.months_since_first_order = 0
    left join cohorts as cohort_month_3
        on cohort_month_3.connection_id = base.connection_id
        and cohort_month_3.currency_code is not distinct from base.currency_code
        and cohort_month_3.cohort_month = cohort_start.cohort_month
        and cohort_month_3.months_since_first_order = 3
    left join mrr
        on mrr.connection_id = base.connection_id
        and mrr.currency_code is not distinct from base.currency_code
        and mrr.month = base.summary_month
    left join cash
        on cash.connection_id = base.connection_id
        and cash.currency_code is not distinct from base.currency_code
        and cash.month = base.summary_month
    left join pnl
        on pnl.connection_id = base.connection_id
        and pnl.month = base.summary_month
        and coalesce(upper(pnl.currency_code), base.currency_code) is not distinct from base.currency_code
    left join ar
        on ar.connection_id = base.connection_id
        and ar.currency_code is not distinct from base.currency_code
    left join ap
        on ap.connection_id = base.connection_id
        and ap.currency_code is not distinct from base.currency_code
    left join working_capital on working_capital.connection_id = base.connection_id
    left join latest_ratios on latest_ratios.connection_id = base.connection_id
    left join concentration
        on concentration.connection_id = base.connection_id
        and concentration.currency_code is not distinct from base.currency_code
    left join bank_balances on bank_balances.connection_id = base.connection_id

)

select * from final
