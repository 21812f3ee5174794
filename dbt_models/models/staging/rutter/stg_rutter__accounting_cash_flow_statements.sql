{% call statement_staging('accounting_cash_flow_statements', id_as='cash_flow_statement_id') %}
        currency_code,
        ending_balance,
        starting_balance,
        total_financing,
        total_investing,
        total_operating,
        {{ rutter_money("data->>'gross_cash_in_flow'") }} as gross_cash_in_flow,
        {{ rutter_money("data->>'gross_cash_out_flow'") }} as gross_cash_out_flow,
{%- endcall %}
