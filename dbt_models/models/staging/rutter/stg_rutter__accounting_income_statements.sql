with

source as (

    select * from {{ source('rutter', 'accounting_income_statements') }}

),

renamed as (

    select
        id as income_statement_id,
        connection_id,
        platform_id,
        (start_date at time zone 'utc')::date as start_date,
        (end_date at time zone 'utc')::date as end_date,
        accounting_standard,
        currency_code,
        gross_profit,
        net_income,
        total_cost_of_sales,
        total_expenses,
        total_income,
        {{ rutter_money("data->>'net_operating_income'") }} as net_operating_income,
        {{ rutter_money("data->>'net_profit'") }} as net_profit,
        {{ rutter_money("data->>'net_sales'") }} as net_sales,
        data->'expenses' as expenses,
        data->'income' as income,
        data->'cost_of_sales' as cost_of_sales,
        created_at,
        updated_at,
        _synced_at as synced_at
    from source
    where _deleted_at is null

)

select * from renamed
