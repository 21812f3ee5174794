-- One row per connection and currency its marts hold money in: the rate to the reporting currency
-- (`reporting_currency` var, RUTTER_REPORTING_CURRENCY, USD by default), or null when Rutter gives none.
-- Rutter's rates are those of the connection's own foreign-currency documents (int_currency_rates), between a
-- currency and the connection's home currency, so a currency converts when it is the reporting currency, or
-- the home currency is the reporting currency and Rutter has a rate for the currency, or the currency is the
-- home currency and Rutter has a rate for the reporting currency (used inverted). The latest rate on or
-- before the as-of date is used. Anything else is not converted, and `is_convertible` says so: money is never
-- added across currencies without a rate.
with

home as (

    select * from {{ ref('int_connection_currencies') }}

),

rates as (

    select * from {{ ref('int_currency_rates') }}
    where rate_date <= {{ as_of_date() }}

),

used as (

    select connection_id, home_currency_code as currency_code from home
    union
    select connection_id, currency_code from {{ ref('fct_commerce_monthly_sales') }}
    union
    select connection_id, currency_code from {{ ref('fct_ar_aging') }}
    union
    select connection_id, currency_code from {{ ref('fct_ap_aging') }}
    union
    select connection_id, currency_code from {{ ref('fct_monthly_pnl') }}

),

used_with_home as (

    select distinct
        used.connection_id,
        coalesce(upper(used.currency_code), home.home_currency_code) as currency_code,
        home.home_currency_code,
        '{{ var("reporting_currency") | upper }}' as reporting_currency
    from used
    left join home on home.connection_id = used.connection_id

),

latest_rates as (

    select distinct on (connection_id, currency_code)
        connection_id, currency_code, rate_to_home, rate_date, rate_source
    from rates
    order by connection_id, currency_code, rate_date desc, rate_source

),

converted as (

    select
        used_with_home.connection_id,
        used_with_home.currency_code,
        used_with_home.home_currency_code,
        used_with_home.reporting_currency,
        case
            when used_with_home.currency_code = used_with_home.reporting_currency then 1::numeric
            when used_with_home.home_currency_code = used_with_home.reporting_currency
                then direct.rate_to_home
            when used_with_home.currency_code = used_with_home.home_currency_code
                then 1 / inverse.rate_to_home
        end as rate_to_reporting,
        case
            when used_with_home.currency_code = used_with_home.reporting_currency then 'same_currency'
            when used_with_home.home_currency_code = used_with_home.reporting_currency
                and direct.rate_to_home is not null then 'rutter_' || direct.rate_source
            when used_with_home.currency_code = used_with_home.home_currency_code
                and inverse.rate_to_home is not null then 'rutter_' || inverse.rate_source || '_inverted'
        end as rate_source,
        case
            when used_with_home.home_currency_code = used_with_home.reporting_currency then direct.rate_date
            when used_with_home.currency_code = used_with_home.home_currency_code then inverse.rate_date
        end as rate_date
    from used_with_home
    left join latest_rates as direct
        on direct.connection_id = used_with_home.connection_id
        and direct.currency_code = used_with_home.currency_code
    left join latest_rates as inverse
        on inverse.connection_id = used_with_home.connection_id
        and inverse.currency_code = used_with_home.reporting_currency

),

final as (

    select
        connection_id || '-' || coalesce(currency_code, 'unknown') as connection_currency_id,
        *,
        rate_to_reporting is not null as is_convertible
    from converted

)

select * from final
