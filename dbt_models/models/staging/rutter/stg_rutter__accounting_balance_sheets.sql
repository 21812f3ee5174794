{% call statement_staging('accounting_balance_sheets', id_as='balance_sheet_id') %}
        currency_code,
        total_assets,
        total_equity,
        total_liabilities,
        data->'assets' as assets,
        data->'liabilities' as liabilities,
        data->'equity' as equity,
{%- endcall %}
