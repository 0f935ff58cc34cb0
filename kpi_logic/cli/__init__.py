"""The command line, `python -m kpi_logic`: argument parsing, tables and JSON."""
