with

source as (

    select * from {{ source('rutter', 'accounting_currencies') }}

),

renamed as (

    select
        id as currency_id,
        connection_id,
        platform_id,
        currency_code,
        currency_name,
        created_at,
        updated_at,
        last_synced_at,
        _synced_at as synced_at
    from source
    where _deleted_at is null

)

select * from renamed
