with

source as (

    select * from {{ source('rutter', 'accounting_departments') }}

),

renamed as (

    select
        id as department_id,
        connection_id,
        platform_id,
        parent_id as parent_department_id,
        has_children,
        name,
        status,
        data->>'platform_url' as platform_url,
        created_at,
        updated_at,
        last_synced_at,
        _synced_at as synced_at
    from source
    where _deleted_at is null

)

select * from renamed
