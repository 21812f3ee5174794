{#- A financial statement covers a period, so every statement table is staged with the same key, period and
    bookkeeping columns around its own figures; the model lists those figures, each followed by a comma, in the
    body of `{% call statement_staging(...) %}`. -#}
{% macro statement_staging(table, id_as) -%}
with

source as (

    select * from {{ source('rutter', table) }}

),

renamed as (

    select
        id as {{ id_as }},
        connection_id,
        platform_id,
        (start_date at time zone 'utc')::date as start_date,
        (end_date at time zone 'utc')::date as end_date,
        {{- caller() }}
        created_at,
        updated_at,
        _synced_at as synced_at
    from source
    where _deleted_at is null

)

select * from renamed
{%- endmacro %}
