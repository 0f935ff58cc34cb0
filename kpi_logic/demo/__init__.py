"""The demo company, Brightpath: its history, definitions and plans, built as
the files an analyst would import."""
