with

source as (

    select * from {{ source('rutter', 'accounting_cash_flow_statements') }}

),

renamed as (

    select
        id as cash_flow_statement_id,
        connection_id,
        platform_id,
        (start_date at time zone 'utc')::date as start_date,
        (end_date at time zone 'utc')::date as end_date,
        currency_code,
        ending_balance,
        starting_balance,
        total_financing,
        total_investing,
        total_operating,
        {{ rutter_money("data->>'gross_cash_in_flow'") }} as gross_cash_in_flow,
        {{ rutter_money("data->>'gross_cash_out_flow'") }} as gross_cash_out_flow,
        created_at,
        updated_at,
        _synced_at as synced_at
    from source
    where _deleted_at is null

)

select * from renamed
