with

source as (

    select * from {{ source('rutter', 'transactions') }}

),

renamed as (

    select
        id as transaction_id,
        connection_id,
        platform_id,
        order_id,
        platform_customer_id,
        payment_method_type,
        status,
        type,
        amount,
        fee,
        gateway,
        data->>'gateway_data' as gateway_data,
        iso_currency_code,
        data->>'platform_type' as platform_type,
        data->>'description' as description,
        created_at,
        updated_at,
        _synced_at as synced_at
    from source
    where _deleted_at is null

)

select * from renamed
