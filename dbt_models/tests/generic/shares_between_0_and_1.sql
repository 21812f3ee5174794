{#- A share or rate column lies between 0 and 1 (null allowed: no base to divide by). -#}
{% test shares_between_0_and_1(model, column_name) %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} < 0 or {{ column_name }} > 1
{% endtest %}
