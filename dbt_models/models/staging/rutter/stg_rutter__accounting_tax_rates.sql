with

source as (

    select * from {{ source('rutter', 'accounting_tax_rates') }}

),

renamed as (

    select
        id as tax_rate_id,
        connection_id,
        platform_id,
        status,
        code,
        effective_tax_rate,
        name,
        total_tax_rate,
        created_at,
        updated_at,
        last_synced_at,
        _synced_at as synced_at
    from source
    where _deleted_at is null

)

select * from renamed
