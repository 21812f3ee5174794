with

bills as (

    select * from {{ ref('stg_rutter__accounting_bills') }}

),

unnested as (

    select
        bills.bill_id,
        bills.connection_id,
        bills.vendor_id,
        bills.issue_date,
        line.item,
        line.line_number
    from bills
    cross join lateral jsonb_array_elements(
        case when jsonb_typeof(bills.line_items) = 'array' then bills.line_items else '[]'::jsonb end
    ) with ordinality as line (item, line_number)

),

final as (

    select
        -- line items carry no id of their own in Rutter; the position within the document is stable
        bill_id || '-' || line_number as bill_line_id,
        bill_id,
        connection_id,
        vendor_id,
        issue_date,
        line_number,
        item->>'platform_id' as platform_id,
        item->>'account_id' as account_id,
        item->'item'->>'id' as item_id,
        item->>'description' as description,
        {{ rutter_money("item->'item'->>'quantity'") }} as quantity,
        {{ rutter_money("item->'item'->>'unit_amount'") }} as unit_amount,
        {{ rutter_money("item->>'sub_total'") }} as sub_total,
        {{ rutter_money("item->>'tax_amount'") }} as tax_amount,
        {{ rutter_money("item->>'discount_amount'") }} as discount_amount,
        {{ rutter_money("item->>'total_amount'") }} as total_amount
    from unnested

)

select * from final
