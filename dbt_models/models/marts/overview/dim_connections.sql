{#- One row per connection with its health as Rutter reported it at the pipeline's last survey: what to look
    at first when a connection's data stops moving. `health` names the most urgent problem. -#}
with

connections as (

    select * from {{ ref('stg_rutter__connections') }}

)

select
    connection_id,
    platform,
    family,
    connection_name,
    status,
    is_ready,
    is_healthy,
    needs_reauth,
    is_disabled,
    case
        when is_disabled then 'disabled'
        when needs_reauth then 'needs_reauth'
        when is_healthy = false then 'unhealthy'
        when is_ready = false then 'not_ready'
        when is_ready and is_healthy then 'healthy'
        else 'unknown'
    end as health,
    last_sync_completed_at,
    extract(epoch from (last_seen_at - last_sync_completed_at)) / 3600.0 as hours_since_rutter_sync,
    created_at,
    first_seen_at,
    last_seen_at as last_surveyed_at
from connections
