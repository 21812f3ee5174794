with

source as (

    select * from {{ source('rutter', 'accounting_locations') }}

),

renamed as (

    select
        id as location_id,
        connection_id,
        platform_id,
        name,
        status,
        parent_id as parent_location_id,
        has_children,
        created_at,
        updated_at,
        last_synced_at,
        _synced_at as synced_at
    from source
    where _deleted_at is null

)

select * from renamed
