-- The exchange rates Rutter gives: a document in a foreign currency carries `currency_rate`, the rate between
-- its currency and the business's home currency (an amount in the home currency = amount × rate). One row per
-- such document with a usable rate.
with

bills as (

    select * from {{ ref('stg_rutter__accounting_bills') }}

),

bill_payments as (

    select * from {{ ref('stg_rutter__accounting_bill_payments') }}

),

invoice_payments as (

    select * from {{ ref('stg_rutter__accounting_invoice_payments') }}

),

journal_entries as (

    select * from {{ ref('stg_rutter__accounting_journal_entries') }}

),

expenses as (

    select * from {{ ref('stg_rutter__accounting_expenses') }}

),

home as (

    select * from {{ ref('int_connection_currencies') }}

),

documents as (

    select connection_id, currency_code, currency_rate, issue_date as rate_date, 'bills' as rate_source from bills
    union all
    select connection_id, currency_code, currency_rate, transaction_date, 'bill_payments' from bill_payments
    union all
    select connection_id, currency_code, currency_rate, txn_date, 'invoice_payments' from invoice_payments
    union all
    select connection_id, currency_code, currency_rate, transaction_date, 'journal_entries' from journal_entries
    union all
    select connection_id, currency_code, currency_rate, transaction_date, 'expenses' from expenses

),

final as (

    select
        documents.connection_id,
        upper(documents.currency_code) as currency_code,
        home.home_currency_code,
        documents.currency_rate as rate_to_home,
        documents.rate_date,
        documents.rate_source
    from documents
    inner join home on home.connection_id = documents.connection_id
    where documents.currency_rate > 0
        and documents.rate_date is not null
        and upper(documents.currency_code) <> home.home_currency_code

)

select * from final
