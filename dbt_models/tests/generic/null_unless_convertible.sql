{#- An amount in the reporting currency is null wherever the row's currency has no rate to it
    (`is_convertible` false): never a figure summed or copied across currencies without a rate. -#}
{% test null_unless_convertible(model, column_name) %}
    select {{ column_name }}
    from {{ model }}
    where not is_convertible and {{ column_name }} is not null
{% endtest %}
