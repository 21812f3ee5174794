with

source as (

    select * from {{ source('rutter_pipeline', '_connections') }}

),

renamed as (

    select
        id as connection_id,
        platform,
        family,
        name as connection_name,
        status,
        is_ready,
        is_healthy,
        needs_update as needs_reauth,
        is_disabled,
        last_sync_completed_at,
        created_at,
        first_seen_at,
        last_seen_at
    from source

)

select * from renamed
