{#- Aging bucket of an open document from its days past due (as-of date minus due date). A document without
    a due date is treated as due on issue, the conservative reading for underwriting. -#}
{% macro aging_bucket(days_past_due) -%}
    case
        when {{ days_past_due }} is null or {{ days_past_due }} <= 0 then 'current'
        when {{ days_past_due }} <= 30 then 'days_1_30'
        when {{ days_past_due }} <= 60 then 'days_31_60'
        when {{ days_past_due }} <= 90 then 'days_61_90'
        else 'over_90'
    end
{%- endmacro %}
