with

source as (

    select * from {{ source('rutter', 'accounting_classes') }}

),

renamed as (

    select
        id as class_id,
        connection_id,
        platform_id,
        parent_id as parent_class_id,
        has_children,
        name,
        status,
        created_at,
        updated_at,
        last_synced_at,
        _synced_at as synced_at
    from source
    where _deleted_at is null

)

select * from renamed
