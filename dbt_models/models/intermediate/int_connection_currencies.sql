-- The home currency of every connection: the currency its books are kept in (company info) for an accounting
-- connection, else that of its latest income statement; for a store, the currency most of its orders are in.
-- An amount Rutter sends without a currency code is in the connection's home currency.
with

company_info as (

    select * from {{ ref('stg_rutter__accounting_company_info') }}

),

statements as (

    select * from {{ ref('stg_rutter__accounting_income_statements') }}

),

orders as (

    select * from {{ ref('stg_rutter__orders') }}

),

from_company_info as (

    select distinct on (connection_id) connection_id, currency_code, 'company_info' as home_currency_source
    from company_info
    where currency_code is not null
    order by connection_id, synced_at desc

),

from_statements as (

    select distinct on (connection_id) connection_id, currency_code, 'income_statements' as home_currency_source
    from statements
    where currency_code is not null
    order by connection_id, end_date desc, synced_at desc

),

from_orders as (

    select distinct on (connection_id) connection_id, iso_currency_code as currency_code, 'orders' as home_currency_source
    from (
        select connection_id, iso_currency_code, count(*) as order_count
        from orders
        where iso_currency_code is not null
        group by 1, 2
    ) as currencies
    order by connection_id, order_count desc, iso_currency_code

),

candidates as (

    select *, 1 as preference from from_company_info
    union all
    select *, 2 as preference from from_statements
    union all
    select *, 3 as preference from from_orders

),

final as (

    select distinct on (connection_id)
        connection_id,
        upper(currency_code) as home_currency_code,
        home_currency_source
    from candidates
    order by connection_id, preference

)

select * from final
