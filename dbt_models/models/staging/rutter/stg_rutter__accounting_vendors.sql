with

source as (

    select * from {{ source('rutter', 'accounting_vendors') }}

),

renamed as (

    select
        id as vendor_id,
        connection_id,
        platform_id,
        data->>'payment_terms_id' as payment_terms_id,
        status,
        data->>'bank_account_number' as bank_account_number,
        contact_name,
        display_name,
        email,
        phone,
        data->>'registration_number' as registration_number,
        data->>'tax_number' as tax_number,
        vendor_name,
        data->>'website' as website,
        platform_url,
        created_at,
        updated_at,
        last_synced_at,
        _synced_at as synced_at
    from source
    where _deleted_at is null

)

select * from renamed
