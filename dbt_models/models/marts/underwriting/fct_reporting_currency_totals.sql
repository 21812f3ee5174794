-- The portfolio in one currency: the latest complete month's figures of every connection that converts to the
-- reporting currency, added up; connections without a rate are counted and named, never added.
with

summary as (

    select * from {{ ref('fct_underwriting_summary') }}

),

final as (

    select
        max(reporting_currency) as reporting_currency,
        max(summary_month) as summary_month,
        count(*) as connection_count,
        count(*) filter (where is_convertible) as converted_connection_count,
        count(*) filter (where not is_convertible) as unconverted_connection_count,
        string_agg(connection_id || ' (' || coalesce(currency_code, 'unknown currency') || ')', ', ' order by connection_id)
            filter (where not is_convertible) as unconverted_connections,
        coalesce(sum(net_sales_reporting) filter (where is_convertible), 0) as net_sales,
        coalesce(sum(revenue_reporting) filter (where is_convertible), 0) as revenue,
        coalesce(sum(net_income_reporting) filter (where is_convertible), 0) as net_income,
        coalesce(sum(receivables_outstanding_reporting) filter (where is_convertible), 0) as receivables_outstanding,
        coalesce(sum(payables_outstanding_reporting) filter (where is_convertible), 0) as payables_outstanding,
        coalesce(sum(mrr_reporting) filter (where is_convertible), 0) as mrr
    from summary

)

select * from final
