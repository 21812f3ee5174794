with

source as (

    select * from {{ source('rutter', 'accounting_accounts') }}

),

renamed as (

    select
        id as account_id,
        connection_id,
        platform_id,
        parent_id as parent_account_id,
        account_type,
        category,
        status,
        balance,
        currency_code,
        name,
        nominal_code,
        platform_url,
        created_at,
        updated_at,
        last_synced_at,
        _synced_at as synced_at
    from source
    where _deleted_at is null

)

select * from renamed
