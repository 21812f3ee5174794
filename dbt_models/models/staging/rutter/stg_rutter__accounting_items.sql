with

source as (

    select * from {{ source('rutter', 'accounting_items') }}

),

renamed as (

    select
        id as item_id,
        connection_id,
        platform_id,
        status,
        type,
        code,
        name,
        quantity_on_hand,
        created_at,
        updated_at,
        last_synced_at,
        _synced_at as synced_at
    from source
    where _deleted_at is null

)

select * from renamed
