-- Monthly revenue, costs and net income per accounting connection, from two sources kept apart:
-- `source = 'statement'`: the platform's monthly income statements, one row per basis the platform reported
--   (`basis`: accrual, cash or unknown, from the statement's `accounting_standard`);
-- `source = 'ledger'`: the general ledger, journal entry lines summed by account category (`basis` unknown:
--   the ledger does not say which basis the books are kept on).
-- The two do not have to tie (a ledger copy may be partial); `is_preferred` marks the one row per connection
-- and month an analyst should read: a statement (accrual, then cash, then unknown) where there is one, else the
-- ledger. Months after the as-of month never appear; the as-of month is flagged `is_partial_month`.
with

statements as (

    select * from {{ ref('stg_rutter__accounting_income_statements') }}

),

journal_lines as (

    select * from {{ ref('int_journal_entry_lines_unnested') }}

),

accounts as (

    select * from {{ ref('dim_accounts') }}

),

home as (

    -- an amount without a currency code is in the connection's home currency
    select * from {{ ref('int_connection_currencies') }}

),

statement_months as (

    -- one statement per month and basis: the most recently refreshed
    select distinct on (connection_id, date_trunc('month', start_date), basis)
        connection_id,
        date_trunc('month', start_date)::date as month,
        basis,
        upper(currency_code) as currency_code,
        total_income as revenue,
        total_cost_of_sales as cost_of_sales,
        total_expenses as operating_expenses,
        net_income,
        'statement' as source
    from (
        select
            *,
            case when accounting_standard in ('accrual', 'cash') then accounting_standard else 'unknown' end
                as basis
        from statements
        where end_date - start_date < 32
    ) as monthly_statements
    order by connection_id, date_trunc('month', start_date), basis, synced_at desc

),

ledger_months as (

    select
        journal_lines.connection_id,
        date_trunc('month', journal_lines.transaction_date)::date as month,
        'unknown' as basis,
        upper(journal_lines.currency_code) as currency_code,
        -- income accounts are credited (negative lines), costs and expenses debited (positive lines)
        coalesce(-sum(journal_lines.amount) filter (where accounts.category = 'income'), 0) as revenue,
        coalesce(sum(journal_lines.amount) filter (where accounts.account_type = 'cost_of_goods_sold'), 0)
            as cost_of_sales,
        coalesce(
            sum(journal_lines.amount)
                filter (where accounts.category = 'expense' and accounts.account_type <> 'cost_of_goods_sold'),
            0
        ) as operating_expenses
    from journal_lines
    inner join accounts on accounts.account_id = journal_lines.account_id
    where journal_lines.transaction_date is not null
    group by 1, 2, 3, 4

),

combined as (

    select * from statement_months
    union all
    select
        connection_id,
        month,
        basis,
        currency_code,
        revenue,
        cost_of_sales,
        operating_expenses,
        revenue - cost_of_sales - operating_expenses as net_income,
        'ledger' as source
    from ledger_months

),

current_or_past as (

    select
        combined.connection_id,
        combined.month,
        combined.basis,
        coalesce(combined.currency_code, home.home_currency_code) as currency_code,
        combined.revenue,
        combined.cost_of_sales,
        combined.operating_expenses,
        combined.net_income,
        combined.source
    from combined
    left join home on home.connection_id = combined.connection_id
    where combined.month <= date_trunc('month', {{ as_of_date() }})::date

),

ranked as (

    select
        *,
        row_number() over (
            partition by connection_id, month
            order by source = 'statement' desc, basis = 'accrual' desc, basis = 'cash' desc, currency_code
        ) = 1 as is_preferred
    from current_or_past

),

final as (

    select
        connection_id || '-' || to_char(month, 'YYYY-MM') || '-' || source || '-' || basis || '-'
            || coalesce(currency_code, 'unknown') as connection_month_id,
        connection_id,
        month,
        source,
        basis,
        is_preferred,
        month = date_trunc('month', {{ as_of_date() }})::date as is_partial_month,
        currency_code,
        revenue,
        cost_of_sales,
        revenue - cost_of_sales as gross_profit,
        operating_expenses,
        net_income,
        round((revenue - cost_of_sales) / nullif(revenue, 0), 4) as gross_margin,
        round(net_income / nullif(revenue, 0), 4) as net_margin
    from ranked

)

select * from final
