with

source as (

    select * from {{ source('rutter', 'accounting_invoices') }}

),

renamed as (

    select
        id as invoice_id,
        connection_id,
        platform_id,
        account_id,
        data->>'class_id' as class_id,
        customer_id,
        data->>'payment_terms_id' as payment_terms_id,
        data->>'subsidiary_id' as subsidiary_id,
        (due_date at time zone 'utc')::date as due_date,
        (issue_date at time zone 'utc')::date as issue_date,
        status,
        amount_due,
        currency_code,
        discount_amount,
        document_number,
        memo,
        sub_total,
        tax_amount,
        total_amount,
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
