{#- Rutter sends money as JSON numbers or as strings ("12.50") depending on the field and API version.
    `->>` yields text for both, so one cast handles them; anything that is not a number becomes null
    instead of failing the whole model (the original value stays in the raw `data` column). -#}
{% macro rutter_money(text_expr) -%}
    case
        when trim({{ text_expr }}) ~ '^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$'
            then trim({{ text_expr }})::numeric
    end
{%- endmacro %}

{#- ISO 8601 strings from nested objects (line items, allocations); typed top-level timestamps are already
    timestamptz in the raw tables. A value that is not a date becomes null rather than failing the model. -#}
{% macro rutter_timestamp(text_expr) -%}
    case
        when {{ text_expr }} ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}'
            then ({{ text_expr }})::timestamptz
    end
{%- endmacro %}

{#- Lists (line items, refunds, transactions, allocations) are JSON arrays, but a platform may send null or leave
    the field out; such a document simply has no elements, instead of `jsonb_array_elements` failing the model. -#}
{% macro rutter_array(jsonb_expr) -%}
    case when jsonb_typeof({{ jsonb_expr }}) = 'array' then {{ jsonb_expr }} else '[]'::jsonb end
{%- endmacro %}
