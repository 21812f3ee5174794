-- A journal entry line's `total_amount` is signed: positive debits, negative credits, so the lines of a
-- balanced entry sum to zero.
with

journal_entries as (

    select * from {{ ref('stg_rutter__accounting_journal_entries') }}

),

unnested as (

    select
        journal_entries.journal_entry_id,
        journal_entries.connection_id,
        journal_entries.transaction_date,
        journal_entries.currency_code,
        line.item,
        line.line_number
    from journal_entries
    cross join lateral jsonb_array_elements({{ rutter_array('journal_entries.line_items') }})
        with ordinality as line (item, line_number)

),

final as (

    select
        journal_entry_id || '-' || line_number as journal_entry_line_id,
        journal_entry_id,
        connection_id,
        transaction_date,
        currency_code,
        line_number,
        item->>'account_id' as account_id,
        item->>'description' as description,
        {{ rutter_money("item->>'total_amount'") }} as amount,
        greatest({{ rutter_money("item->>'total_amount'") }}, 0) as debit_amount,
        greatest(-{{ rutter_money("item->>'total_amount'") }}, 0) as credit_amount
    from unnested

)

select * from final
