with

source as (

    select * from {{ source('rutter', 'accounting_bank_deposits') }}

),

renamed as (

    select
        id as bank_deposit_id,
        connection_id,
        platform_id,
        account_id,
        subsidiary_id,
        currency_code,
        memo,
        platform_url,
        total_amount,
        transaction_date,
        created_at,
        updated_at,
        last_synced_at,
        _synced_at as synced_at
    from source
    where _deleted_at is null

)

select * from renamed
