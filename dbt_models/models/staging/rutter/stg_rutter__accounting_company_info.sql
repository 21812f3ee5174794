with

source as (

    select * from {{ source('rutter', 'accounting_company_info') }}

),

renamed as (

    select
        id as company_info_id,
        connection_id,
        platform_id,
        currency_code,
        name,
        legal_name,
        created_at,
        updated_at,
        last_synced_at,
        _synced_at as synced_at
    from source
    where _deleted_at is null

)

select * from renamed
