with

source as (

    select * from {{ source('rutter', 'accounting_payment_terms') }}

),

renamed as (

    select
        id as payment_term_id,
        connection_id,
        platform_id,
        term_name,
        due_days,
        discount_days,
        discount_percent,
        created_at,
        updated_at,
        last_synced_at,
        _synced_at as synced_at
    from source
    where _deleted_at is null

)

select * from renamed
