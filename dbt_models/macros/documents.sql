{#- Invoices (owed to the business by customers) and bills (owed by the business to vendors) have the same
    shape in Rutter; these macros hold what both sides compute, each model naming its document and counterparty
    (`document='invoice', counterparty='customer_id'` or `document='bill', counterparty='vendor_id'`). -#}

{#- One row per line item of the documents in the relation `documents` (which has `<document>_id`,
    `connection_id`, the counterparty, `issue_date` and the JSON `line_items`). -#}
{% macro unnest_document_lines(documents, document, counterparty) -%}
    select
        -- line items carry no id of their own in Rutter; the position within the document is stable
        documents.{{ document }}_id || '-' || line.line_number as {{ document }}_line_id,
        documents.{{ document }}_id,
        documents.connection_id,
        documents.{{ counterparty }},
        documents.issue_date,
        line.line_number,
        line.item->>'platform_id' as platform_id,
        line.item->>'account_id' as account_id,
        line.item->'item'->>'id' as item_id,
        line.item->>'description' as description,
        {{ rutter_money("line.item->'item'->>'quantity'") }} as quantity,
        {{ rutter_money("line.item->'item'->>'unit_amount'") }} as unit_amount,
        {{ rutter_money("line.item->>'sub_total'") }} as sub_total,
        {{ rutter_money("line.item->>'tax_amount'") }} as tax_amount,
        {{ rutter_money("line.item->>'discount_amount'") }} as discount_amount,
        {{ rutter_money("line.item->>'total_amount'") }} as total_amount
    from {{ documents }} as documents
    cross join lateral jsonb_array_elements({{ rutter_array('documents.line_items') }})
        with ordinality as line (item, line_number)
{%- endmacro %}

{#- One row per (payment, document) allocation in the payments' `linked_<document>s`. The two payment objects
    name their date and the allocation's keys differently in Rutter, so the model names them: `paid_on` is the
    payment's date column, used when the allocation has no date of its own at `allocated_on_key`;
    `amount_key` holds the allocated amount. -#}
{% macro payments_applied(payments, document, counterparty, paid_on, allocated_on_key, amount_key) -%}
    select
        payment.{{ document }}_payment_id || '-' || link.allocation_number as {{ document }}_payment_allocation_id,
        payment.{{ document }}_payment_id,
        link.item->>'id' as {{ document }}_id,
        payment.connection_id,
        payment.{{ counterparty }},
        coalesce(
            ({{ rutter_timestamp("link.item->>'" ~ allocated_on_key ~ "'") }} at time zone 'utc')::date,
            payment.{{ paid_on }}
        ) as applied_on,
        {{ rutter_money("link.item->>'" ~ amount_key ~ "'") }} as applied_amount
    from {{ payments }} as payment
    cross join lateral jsonb_array_elements({{ rutter_array('payment.linked_' ~ document ~ 's') }})
        with ordinality as link (item, allocation_number)
{%- endmacro %}

{#- Each document with what was paid on it, whether it is open and how long it has been outstanding at the
    as-of date. Open means money is still owed: a positive amount due on a document that is not void, draft,
    rejected or paid, issued on or before the as-of date. Aging counts days past the due date (the issue date
    when there is none); the amount is the balance Rutter reports now. `payments` is the document's
    `int_<document>_payments_applied`. -#}
{% macro documents_outstanding(documents, payments, document, counterparty) -%}
    with

    payment_totals as (

        select
            {{ document }}_id,
            count(*) as payment_count,
            sum(applied_amount) as amount_paid,
            max(applied_on) as last_paid_on
        from {{ payments }}
        group by 1

    ),

    classified as (

        select
            documents.*,
            {{ as_of_date() }} as as_of_date,
            coalesce(payment_totals.payment_count, 0) as payment_count,
            coalesce(payment_totals.amount_paid, 0) as amount_paid,
            payment_totals.last_paid_on,
            coalesce(documents.amount_due, 0) > 0
                and documents.status not in ('void', 'draft', 'rejected', 'paid')
                and coalesce(documents.issue_date, {{ as_of_date() }}) <= {{ as_of_date() }} as is_open
        from {{ documents }} as documents
        left join payment_totals on payment_totals.{{ document }}_id = documents.{{ document }}_id

    )

    select
        {{ document }}_id,
        connection_id,
        {{ counterparty }},
        document_number,
        status,
        currency_code,
        issue_date,
        due_date,
        total_amount,
        amount_due,
        amount_paid,
        payment_count,
        last_paid_on,
        is_open,
        as_of_date,
        case
            when is_open then as_of_date - issue_date
            when status = 'paid' then last_paid_on - issue_date
        end as days_outstanding,
        case when is_open then as_of_date - coalesce(due_date, issue_date) end as days_past_due,
        case
            when is_open then {{ aging_bucket('as_of_date - coalesce(due_date, issue_date)') }}
        end as aging_bucket,
        created_at,
        updated_at,
        last_synced_at
    from classified
{%- endmacro %}

{#- Per connection, what is open now (`open_as`) and what was issued over the trailing 90 days to the as-of date
    (`issued_as`), from `fct_invoices` or `fct_bills`: the two terms of DSO and DPO. -#}
{% macro open_and_issued_last_90_days(documents, open_as, issued_as) -%}
    select
        connection_id,
        coalesce(sum(amount_due) filter (where is_open), 0) as {{ open_as }},
        coalesce(sum(total_amount) filter (
            where status not in ('void', 'draft', 'rejected')
            and issue_date > as_of_date - 90 and issue_date <= as_of_date
        ), 0) as {{ issued_as }}
    from {{ documents }}
    group by 1
{%- endmacro %}
