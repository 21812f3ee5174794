with

source as (

    select * from {{ source('rutter', 'subscriptions') }}

),

renamed as (

    select
        id as subscription_id,
        connection_id,
        platform_id,
        platform_customer_id,
        status,
        iso_currency_code,
        data->'items' as items,
        created_at,
        updated_at,
        _synced_at as synced_at
    from source
    where _deleted_at is null

)

select * from renamed
