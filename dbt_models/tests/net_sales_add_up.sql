-- Net sales are gross merchandise sales less cancelled and failed-payment sales, discounts and refunds, in
-- every store month.
select *
from {{ ref('fct_commerce_monthly_sales') }}
where net_sales <> gross_merchandise_sales - cancelled_sales - failed_payment_sales - discounts - refunds
