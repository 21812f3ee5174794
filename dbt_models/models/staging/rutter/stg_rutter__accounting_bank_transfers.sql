with

source as (

    select * from {{ source('rutter', 'accounting_bank_transfers') }}

),

renamed as (

    select
        id as bank_transfer_id,
        connection_id,
        platform_id,
        credit_account_id,
        debit_account_id,
        class_id,
        department_id,
        location_id,
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
