with

source as (

    select * from {{ source('rutter', 'accounting_bills') }}

),

renamed as (

    select
        id as bill_id,
        connection_id,
        platform_id,
        account_id,
        data->>'payment_terms_id' as payment_terms_id,
        data->>'subsidiary_id' as subsidiary_id,
        vendor_id,
        (due_date at time zone 'utc')::date as due_date,
        (issue_date at time zone 'utc')::date as issue_date,
        amount_due,
        currency_code,
        status,
        total_amount,
        document_number,
        memo,
        sub_total,
        tax_amount,
        total_discount,
        currency_rate,
        data->'linked_payments' as linked_payments,
        data->'line_items' as line_items,
        platform_url,
        created_at,
        updated_at,
        last_synced_at,
        _synced_at as synced_at
    from source
    where _deleted_at is null

)

select * from renamed
