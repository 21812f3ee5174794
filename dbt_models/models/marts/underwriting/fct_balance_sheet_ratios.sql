-- Liquidity and leverage per accounting connection at the end of each month with a balance sheet (the latest
-- sheet ending in that month). Totals come from the sheet; current assets and liabilities from its line items
-- whose account is classified in the chart of accounts (current assets: bank, accounts_receivable,
-- other_current_asset; quick assets: bank and accounts_receivable; current liabilities: accounts_payable,
-- credit_card, other_current_liability). A sheet whose lines name no classified account has null current
-- figures and ratios (`has_current_split` false) rather than ratios made up from its totals.
-- current ratio = current assets ÷ current liabilities; quick ratio = quick assets ÷ current liabilities;
-- working capital = current assets − current liabilities; leverage = total liabilities ÷ total equity;
-- debt ratio = total liabilities ÷ total assets.
with

sheets as (

    select * from {{ ref('stg_rutter__accounting_balance_sheets') }}

),

accounts as (

    select * from {{ ref('dim_accounts') }}

),

home as (

    select * from {{ ref('int_connection_currencies') }}

),

monthly_sheets as (

    select distinct on (connection_id, date_trunc('month', end_date))
        balance_sheet_id,
        connection_id,
        date_trunc('month', end_date)::date as month,
        end_date,
        currency_code,
        total_assets,
        total_liabilities,
        total_equity,
        assets,
        liabilities
    from sheets
    where end_date <= {{ as_of_date() }}
    order by connection_id, date_trunc('month', end_date), end_date desc, synced_at desc

),

lines as (

    -- the leaves of the assets and liabilities trees (a parent's value already includes its children)
    select monthly_sheets.balance_sheet_id, node.value as line
    from monthly_sheets
    cross join lateral jsonb_path_query(
        jsonb_build_array({{ rutter_array("monthly_sheets.assets->'items'") }},
                          {{ rutter_array("monthly_sheets.liabilities->'items'") }}),
        'strict $.** ? (@.type() == "object")'
    ) as node (value)
    where case
        when jsonb_typeof(node.value->'items') = 'array' then jsonb_array_length(node.value->'items')
        else 0
    end = 0

),

classified as (

    select
        lines.balance_sheet_id,
        accounts.account_type,
        {{ rutter_money("lines.line->>'value'") }} as amount
    from lines
    inner join accounts on accounts.account_id = lines.line->>'account_id'

),

split as (

    select
        balance_sheet_id,
        sum(amount) filter (where account_type in ('bank', 'accounts_receivable', 'other_current_asset'))
            as current_assets,
        sum(amount) filter (where account_type in ('bank', 'accounts_receivable')) as quick_assets,
        sum(amount) filter (where account_type = 'bank') as cash,
        sum(amount) filter (where account_type in ('accounts_payable', 'credit_card', 'other_current_liability'))
            as current_liabilities
    from classified
    group by 1

),

final as (

    select
        monthly_sheets.connection_id || '-' || to_char(monthly_sheets.month, 'YYYY-MM') as connection_month_id,
        monthly_sheets.connection_id,
        monthly_sheets.month,
        monthly_sheets.end_date,
        coalesce(upper(monthly_sheets.currency_code), home.home_currency_code) as currency_code,
        monthly_sheets.total_assets,
        monthly_sheets.total_liabilities,
        monthly_sheets.total_equity,
        split.current_assets,
        split.quick_assets,
        split.cash,
        split.current_liabilities,
        split.current_assets is not null and split.current_liabilities is not null as has_current_split,
        round(split.current_assets / nullif(split.current_liabilities, 0), 4) as current_ratio,
        round(split.quick_assets / nullif(split.current_liabilities, 0), 4) as quick_ratio,
        split.current_assets - split.current_liabilities as working_capital,
        round(monthly_sheets.total_liabilities / nullif(monthly_sheets.total_equity, 0), 4) as leverage,
        round(monthly_sheets.total_liabilities / nullif(monthly_sheets.total_assets, 0), 4) as debt_ratio
    from monthly_sheets
    left join split on split.balance_sheet_id = monthly_sheets.balance_sheet_id
    left join home on home.connection_id = monthly_sheets.connection_id

)

select * from final
