with

source as (

    select * from {{ source('rutter', 'accounting_transactions') }}

),

renamed as (

    select
        id as accounting_transaction_id,
        connection_id,
        platform_id,
        rutter_transaction_id,
        rutter_transaction_type,
        platform_url,
        transaction_date,
        created_at,
        updated_at,
        last_synced_at,
        _synced_at as synced_at
    from source
    where _deleted_at is null

)

select * from renamed
