with

source as (

    select * from {{ source('rutter', 'payouts') }}

),

renamed as (

    select
        id as payout_id,
        connection_id,
        platform_id,
        gateway_account_id,
        arrival_at,
        amount,
        gateway,
        iso_currency_code,
        schedule,
        status,
        type,
        method,
        created_at,
        updated_at,
        _synced_at as synced_at
    from source
    where _deleted_at is null

)

select * from renamed
