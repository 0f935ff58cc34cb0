"""The domain's vocabulary and rules that need no data: the model's dataclasses,
errors, missing numbers, calendar periods, formulas, header names, the limits of
reading a file and text made safe for a spreadsheet."""
