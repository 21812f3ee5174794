with

source as (

    select * from {{ source('rutter', 'accounting_balance_sheets') }}

),

renamed as (

    select
        id as balance_sheet_id,
        connection_id,
        platform_id,
        (start_date at time zone 'utc')::date as start_date,
        (end_date at time zone 'utc')::date as end_date,
        currency_code,
        total_assets,
        total_equity,
        total_liabilities,
        created_at,
        updated_at,
        _synced_at as synced_at
    from source
    where _deleted_at is null

)

select * from renamed
