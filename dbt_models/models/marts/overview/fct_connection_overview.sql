-- One row per connection: what the warehouse holds for it, the period it covers and when it was last synced.
{%- set tables = {
    'orders': 'created_at', 'customers': none, 'products': none, 'transactions': 'created_at',
    'payouts': 'created_at', 'accounting_accounts': none, 'accounting_invoices': 'issue_date',
    'accounting_bills': 'issue_date', 'accounting_invoice_payments': 'txn_date',
    'accounting_bill_payments': 'transaction_date', 'accounting_invoice_credit_memos': 'issue_date',
    'accounting_bill_credit_memos': 'issue_date', 'accounting_customers': none, 'accounting_vendors': none,
    'accounting_journal_entries': 'transaction_date', 'accounting_expenses': 'transaction_date',
    'accounting_items': none, 'accounting_purchase_orders': 'issue_date', 'accounting_tax_rates': none,
    'accounting_classes': none, 'accounting_departments': none, 'accounting_company_info': none,
    'accounting_balance_sheets': 'end_date', 'accounting_income_statements': 'end_date',
    'accounting_cash_flow_statements': 'end_date',
} %}
{#- The platform is not part of any object; it is taken from the connections table when the sync engine
    keeps one (`<rutter_schema>._connections`), and left null otherwise. -#}
{%- set connections_relation = adapter.get_relation(
    database=target.database, schema=var('rutter_schema'), identifier='_connections'
) if execute else none %}
with

per_table as (

    {%- for table, activity_column in tables.items() %}
    select
        '{{ table }}' as table_name,
        connection_id,
        count(*) as row_count,
        {% if activity_column -%}
        min({{ activity_column }})::date as first_activity_on,
        max({{ activity_column }})::date as last_activity_on,
        {%- else -%}
        null::date as first_activity_on,
        null::date as last_activity_on,
        {%- endif %}
        max(synced_at) as last_synced_at
    from {{ ref('stg_rutter__' ~ table) }}
    group by 2
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

{% if connections_relation -%}
platforms as (

    select id as connection_id, platform from {{ connections_relation }}

),
{%- else -%}
platforms as (

    select null::text as connection_id, null::text as platform where false

),
{%- endif %}

final as (

    select
        per_table.connection_id,
        max(platforms.platform) as platform,
        case
            when sum(row_count) filter (where table_name not like 'accounting\_%') > 0 then 'commerce'
            else 'accounting'
        end as family,
        min(first_activity_on) as first_activity_on,
        max(last_activity_on) as last_activity_on,
        max(last_synced_at) as last_synced_at,
        sum(row_count)::bigint as total_row_count,
        {%- for table in tables %}
        coalesce(sum(row_count) filter (where table_name = '{{ table }}'), 0)::bigint as {{ table }}_count
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from per_table
    left join platforms on platforms.connection_id = per_table.connection_id
    group by 1

)

select * from final
