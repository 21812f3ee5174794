{#- Exactly one row per connection and month is marked `is_preferred`. -#}
{% test one_preferred_row_per_month(model) %}
    select connection_id, month, count(*) filter (where is_preferred) as preferred_rows
    from {{ model }}
    group by 1, 2
    having count(*) filter (where is_preferred) <> 1
{% endtest %}
