"""`python -m kpi_logic`: the command line (see cli/main.py)."""
import sys

from kpi_logic.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
