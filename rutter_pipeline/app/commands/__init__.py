"""One module per `rutter-pipeline` command: each adds its arguments to the parser and runs the command.

`common.py` holds what several commands share: exit codes, argument types, opening the warehouse, the message
for a lost database connection and preparing dbt's manifest. `app/cli.py` wires them into one parser.
"""
