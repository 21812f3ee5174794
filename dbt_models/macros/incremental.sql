{#- The large commerce facts are incremental: a build after a sync redoes only the orders written since the
    previous build. Every write to `rutter.orders` (insert, update, soft delete) sets `_synced_at`, so "written
    since" is `_synced_at` later than the newest `synced_at` the model already holds, less an optional margin
    (`incremental_margin_minutes`, 0 by default: the marts are built when no sync is running) for writes that
    commit after a later one. Deletions do not depend on it: rows of deleted orders are removed by id. Models
    keep one row set per order: they delete the rows of those orders, then insert them again from the live
    orders (`delete+insert` on `order_id`), so updates, removed lines or refunds and deletions all land. A
    `--full-refresh` builds them from scratch and gives the same rows. -#}

{#- Ids of the orders (live or deleted) written since this model's newest row. Only meaningful when
    `is_incremental()`. Models using it declare `-- depends_on: {{ source('rutter', 'orders') }}`. -#}
{% macro orders_written_since_last_build() -%}
    {#- The watermark is read first and written into the query as a literal: as a subquery, the planner would
        guess that a third of the orders match and scan them all. Every incremental model has an index on
        `synced_at`, so reading it is one index probe, not a scan of the model's millions of rows. -#}
    {%- set watermark = run_query(
        "select coalesce(max(synced_at), '-infinity'::timestamptz)::text from " ~ this
    ).columns[0].values()[0] if execute else '-infinity' -%}
    select id from {{ source('rutter', 'orders') }}
    where _synced_at > '{{ watermark }}'::timestamptz - interval '{{ var("incremental_margin_minutes") }} minutes'
{%- endmacro %}

{#- `where <column> = any(...orders written since the last build...)` on incremental runs; nothing otherwise.
    An array rather than `in (select ...)`: the staging views (import CTEs) are planned apart from the query that
    reads them, so a semi-join cannot reach the raw table's primary key and scans every order, while a
    condition on an array is pushed into the view and looks the few ids up. -#}
{% macro only_orders_written_since_last_build(column='order_id') -%}
    {%- if is_incremental() %}
    where {{ column }} = any(array({{ orders_written_since_last_build() }}))
    {%- endif %}
{%- endmacro %}

{#- Pre-hook of the per-order models: drop the rows of orders written since the last build before they are
    inserted again, so lines or refunds an order no longer has, and deleted orders, disappear too. -#}
{% macro delete_orders_written_since_last_build() -%}
    {%- if is_incremental() -%}
    delete from {{ this }} where order_id in ({{ orders_written_since_last_build() }})
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{#- Raw tables loaded or changed a lot since PostgreSQL last sampled them get fresh statistics before the
    build: with none, the planner takes a freshly synced table of 100,000 orders for a few hundred rows and
    picks nested loops that never finish. Run on `on-run-start`; tables the dbt user may not analyze are left
    to autovacuum. -#}
{% macro analyze_stale_raw_tables() -%}
    {%- if execute -%}
    {%- set stale = run_query(
        "select quote_ident(schemaname) || '.' || quote_ident(relname) from pg_stat_user_tables"
        ~ " where schemaname = '" ~ var('rutter_schema') ~ "'"
        ~ " and (coalesce(last_analyze, last_autoanalyze) is null and n_live_tup + n_mod_since_analyze > 0"
        ~ " or n_mod_since_analyze > greatest(1000, 0.1 * n_live_tup))"
    ) -%}
    {%- for row in stale.rows %}
    do $$ begin analyze {{ row[0] }}; exception when insufficient_privilege then null; end $$;
    {%- endfor -%}
    {%- endif -%}
    select 1
{%- endmacro %}

{#- Post-hook of the per-order models: remove the rows of orders deleted in the raw table, whenever they were
    deleted (a partial index holds their ids). In `fct_orders` it must run after the insert, because the build
    needs their old rows to know which customers to renumber. -#}
{% macro delete_deleted_orders() -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where order_id in (select id from {{ source('rutter', 'orders') }} where _deleted_at is not null)
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{#- Indexes the incremental models read the raw tables by, created once (`on-run-start`): `_synced_at` of the
    orders ("written since the last build") and the ids of deleted orders (a partial index). Kept here, beside
    the models that need them, rather than in the sync's schema; skipped if the dbt user does not own the
    table. -#}
{% macro create_raw_order_indexes() -%}
    {%- set orders = source('rutter', 'orders') -%}
    do $$ begin
        create index if not exists ix_orders__synced_at on {{ orders }} (_synced_at);
        create index if not exists ix_orders_deleted on {{ orders }} (id) where _deleted_at is not null;
    exception when insufficient_privilege then null;
    end $$
{%- endmacro %}
