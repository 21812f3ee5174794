-- One row per connection: what the warehouse holds for it, the period it covers and when it was last synced.
-- The tables are the dbt sources of `rutter` (models/staging/rutter/_rutter__sources.yml), each with its
-- `meta.activity_column` when it has a business date: a table added there is counted here too. Platform and
-- family come from the connections table (`_connections`); a connection seen only in the raw tables gets its
-- family from which tables hold its rows.
{%- set tables = [] %}
{%- if execute %}
{%- for node in graph.sources.values() | sort(attribute='name') if node.source_name == 'rutter' %}
{%- do tables.append(node) %}
{%- endfor %}
{%- endif %}
-- depends_on: {{ ref('stg_rutter__connections') }}
with

connections as (

    select * from {{ ref('stg_rutter__connections') }}

),

per_table as (

    {%- for table in tables %}
    {%- set activity_column = table.meta.get('activity_column') %}
    select
        '{{ table.name }}' as table_name,
        connection_id,
        count(*) as row_count,
        {% if activity_column -%}
        (min({{ activity_column }}) at time zone 'utc')::date as first_activity_on,
        (max({{ activity_column }}) at time zone 'utc')::date as last_activity_on,
        {%- else -%}
        null::date as first_activity_on,
        null::date as last_activity_on,
        {%- endif %}
        max(_synced_at) as last_synced_at
    from {{ source('rutter', table.name) }}
    where _deleted_at is null
    group by 2
    {% if not loop.last %}union all{% endif %}
    {%- else %}
    select null::text as table_name, null::text as connection_id, 0::bigint as row_count,
        null::date as first_activity_on, null::date as last_activity_on, null::timestamptz as last_synced_at
    where false
    {%- endfor %}

),

final as (

    select
        per_table.connection_id,
        max(connections.platform) as platform,
        coalesce(
            max(connections.family),
            case
                when sum(row_count) filter (where table_name not like 'accounting\_%') > 0 then 'commerce'
                else 'accounting'
            end
        ) as family,
        min(first_activity_on) as first_activity_on,
        max(last_activity_on) as last_activity_on,
        max(last_synced_at) as last_synced_at,
        sum(row_count)::bigint as total_row_count,
        {%- for table in tables %}
        coalesce(sum(row_count) filter (where table_name = '{{ table.name }}'), 0)::bigint as {{ table.name }}_count
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from per_table
    left join connections on connections.connection_id = per_table.connection_id
    group by 1

)

select * from final
