"""What the numbers say: history rolled up to periods, coverage, changes, KPIs
and scorecards, key results and OKR reports, the overview, the catalogue,
suggested targets and the KPI library."""
