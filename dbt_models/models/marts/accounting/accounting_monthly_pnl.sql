-- Monthly revenue, costs and net income per accounting connection: from the platform's monthly income
-- statements, and from the general ledger (journal entry lines by account category) for months without one.
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

monthly_statements as (

    -- one statement per month: accrual before cash basis, then the most recently refreshed
    select distinct on (connection_id, date_trunc('month', start_date))
        connection_id,
        date_trunc('month', start_date)::date as month,
        total_income as revenue,
        total_cost_of_sales as cost_of_sales,
        total_expenses as operating_expenses,
        net_income,
        'income_statement' as source
    from statements
    where end_date - start_date < 32
    order by
        connection_id,
        date_trunc('month', start_date),
        accounting_standard = 'accrual' desc,
        synced_at desc

),

ledger_months as (

    select
        journal_lines.connection_id,
        date_trunc('month', journal_lines.transaction_date)::date as month,
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
    group by 1, 2

),

ledger_only_months as (

    select
        ledger_months.connection_id,
        ledger_months.month,
        ledger_months.revenue,
        ledger_months.cost_of_sales,
        ledger_months.operating_expenses,
        ledger_months.revenue - ledger_months.cost_of_sales - ledger_months.operating_expenses as net_income,
        'journal_entries' as source
    from ledger_months
    left join monthly_statements
        on monthly_statements.connection_id = ledger_months.connection_id
        and monthly_statements.month = ledger_months.month
    where monthly_statements.connection_id is null

),

combined as (

    select * from monthly_statements
    union all
    select * from ledger_only_months

),

final as (

    select
        connection_id || '-' || to_char(month, 'YYYY-MM') as connection_month_id,
        connection_id,
        month,
        revenue,
        cost_of_sales,
        revenue - cost_of_sales as gross_profit,
        operating_expenses,
        net_income,
        source
    from combined

)

select * from final
