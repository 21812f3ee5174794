with

source as (

    select * from {{ source('rutter', 'accounting_customers') }}

),

renamed as (

    select
        id as customer_id,
        connection_id,
        platform_id,
        data->>'parent_id' as parent_id,
        data->>'payment_terms_id' as payment_terms_id,
        data->>'subsidiary_id' as subsidiary_id,
        status,
        contact_name,
        currency_code,
        customer_name,
        email,
        phone,
        data->>'registration_number' as registration_number,
        data->>'tax_number' as tax_number,
        platform_url,
        created_at,
        updated_at,
        last_synced_at,
        _synced_at as synced_at
    from source
    where _deleted_at is null

)

select * from renamed
