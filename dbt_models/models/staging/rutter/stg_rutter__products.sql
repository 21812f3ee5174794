with

source as (

    select * from {{ source('rutter', 'products') }}

),

renamed as (

    select
        id as product_id,
        connection_id,
        platform_id,
        category_id,
        data->>'description' as description,
        name,
        type,
        product_url,
        status,
        created_at,
        updated_at,
        _synced_at as synced_at
    from source
    where _deleted_at is null

)

select * from renamed
