with

accounts as (

    select * from {{ ref('stg_rutter__accounting_accounts') }}

),

final as (

    select
        accounts.account_id,
        accounts.connection_id,
        accounts.platform_id,
        accounts.name as account_name,
        accounts.nominal_code,
        accounts.account_type,
        accounts.category,
        accounts.status,
        accounts.status = 'active' as is_active,
        accounts.currency_code,
        accounts.balance,
        accounts.parent_account_id,
        parents.name as parent_account_name,
        accounts.created_at,
        accounts.updated_at,
        accounts.last_synced_at
    from accounts
    left join accounts as parents
        on parents.account_id = accounts.parent_account_id

)

select * from final
