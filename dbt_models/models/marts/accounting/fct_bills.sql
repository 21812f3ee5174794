-- Open means money is still owed: a positive amount due on a document that is not void, draft, rejected or
-- paid, issued on or before the as-of date. Aging counts days past the due date (the issue date when there is
-- none) at the as-of date; the amount is the balance Rutter reports now.
with

bills as (

    select * from {{ ref('stg_rutter__accounting_bills') }}

),

payments as (

    select * from {{ ref('int_bill_payments_applied') }}

),

payment_totals as (

    select
        bill_id,
        count(*) as payment_count,
        sum(applied_amount) as amount_paid,
        max(applied_on) as last_paid_on
    from payments
    group by 1

),

classified as (

    select
        bills.*,
        {{ as_of_date() }} as as_of_date,
        coalesce(payment_totals.payment_count, 0) as payment_count,
        coalesce(payment_totals.amount_paid, 0) as amount_paid,
        payment_totals.last_paid_on,
        coalesce(bills.amount_due, 0) > 0
            and bills.status not in ('void', 'draft', 'rejected', 'paid')
            and coalesce(bills.issue_date, {{ as_of_date() }}) <= {{ as_of_date() }} as is_open
    from bills
    left join payment_totals on payment_totals.bill_id = bills.bill_id

),

final as (

    select
        bill_id,
        connection_id,
        vendor_id,
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
        case when is_open then {{ aging_bucket('as_of_date - coalesce(due_date, issue_date)') }} end as aging_bucket,
        created_at,
        updated_at,
        last_synced_at
    from classified

)

select * from final
