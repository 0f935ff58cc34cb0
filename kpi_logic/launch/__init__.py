"""The marketing launch: channel and campaign KPIs, before/after windows,
response curves, budget what-ifs and the optimiser."""
