with

source as (

    select * from {{ source('rutter', 'customer_groups') }}

),

renamed as (

    select
        id as customer_group_id,
        connection_id,
        platform_id,
        name,
        created_at,
        updated_at,
        _synced_at as synced_at
    from source
    where _deleted_at is null

)

select * from renamed
