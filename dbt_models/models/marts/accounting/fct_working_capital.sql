-- Days sales outstanding (DSO) and days payables outstanding (DPO) per accounting connection at the as-of
-- date, over a trailing 90 days: open receivables (payables) divided by what was invoiced (billed) in those
-- 90 days, times 90.
with

invoices as (

    select * from {{ ref('fct_invoices') }}

),

bills as (

    select * from {{ ref('fct_bills') }}

),

receivables as (

    {{ open_and_issued_last_90_days(
        'invoices', open_as='accounts_receivable', issued_as='invoiced_last_90_days'
    ) }}

),

payables as (

    {{ open_and_issued_last_90_days('bills', open_as='accounts_payable', issued_as='billed_last_90_days') }}

),

connections as (

    select connection_id from receivables
    union
    select connection_id from payables

),

final as (

    select
        connections.connection_id,
        {{ as_of_date() }} as as_of_date,
        coalesce(receivables.accounts_receivable, 0) as accounts_receivable,
        coalesce(receivables.invoiced_last_90_days, 0) as invoiced_last_90_days,
        round(receivables.accounts_receivable / nullif(receivables.invoiced_last_90_days, 0) * 90, 1) as dso_days,
        coalesce(payables.accounts_payable, 0) as accounts_payable,
        coalesce(payables.billed_last_90_days, 0) as billed_last_90_days,
        round(payables.accounts_payable / nullif(payables.billed_last_90_days, 0) * 90, 1) as dpo_days
    from connections
    left join receivables on receivables.connection_id = connections.connection_id
    left join payables on payables.connection_id = connections.connection_id

)

select * from final
