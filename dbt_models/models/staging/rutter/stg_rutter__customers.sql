with

source as (

    select * from {{ source('rutter', 'customers') }}

),

renamed as (

    select
        id as customer_id,
        connection_id,
        platform_id,
        email,
        first_name,
        last_name,
        phone,
        created_at,
        updated_at,
        _synced_at as synced_at
    from source
    where _deleted_at is null

)

select * from renamed
