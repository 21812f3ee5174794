with

source as (

    select * from {{ source('rutter', 'accounting_journal_entries') }}

),

renamed as (

    select
        id as journal_entry_id,
        connection_id,
        platform_id,
        data->>'subsidiary_id' as subsidiary_id,
        (transaction_date at time zone 'utc')::date as transaction_date,
        currency_code,
        currency_rate,
        (data->>'deposited')::boolean as deposited,
        memo,
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
