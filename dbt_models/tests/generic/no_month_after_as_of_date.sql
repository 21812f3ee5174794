{#- No row is dated in a month after the as-of date's: a month that has not begun has no figures. -#}
{% test no_month_after_as_of_date(model, date_column) %}
    select *
    from {{ model }}
    where {{ date_column }} > date_trunc('month', {{ as_of_date() }})::date
{% endtest %}
