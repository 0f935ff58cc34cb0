"""The errors the engine raises on purpose.

InputError is a refusal of what the user gave us (a file, a definition, an
argument): its message is written for the person who uploaded the file. The
CLI maps it to exit code 2, the dashboard shows it as an error box.
"""
from __future__ import annotations


def shortened(text: str, most: int) -> str:
    """`text` quoted in a message, cut to at most `most` characters ("..." at the end)."""
    return text if len(text) <= most else text[:most - 3] + "..."


class InputError(Exception):
    """Refused input. Says where (file, sheet, row, column) and what to do.

    `row` is the row as the user sees it: the spreadsheet row number or the
    CSV line number, with the header on its own row counted.
    `problems` optionally lists further located problems (already formatted);
    only the first 20 are shown, with the total count.
    """

    def __init__(self, message: str, *, file: str | None = None,
                 sheet: str | None = None, row: int | None = None,
                 column: str | None = None, problems: list[str] | None = None,
                 total_problems: int | None = None):
        self.message = message
        self.file = file
        self.sheet = sheet
        self.row = row
        self.column = column
        self.problems = list(problems or [])
        self.total_problems = total_problems if total_problems is not None else len(self.problems)
        super().__init__(str(self))

    def location(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.sheet:
            parts.append(f"sheet '{self.sheet}'")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column '{self.column}'")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.location()
        text = f"{where}: {self.message}" if where else self.message
        if self.problems:
            shown = self.problems[:20]
            text += "\n" + "\n".join(f"  - {p}" for p in shown)
            if self.total_problems > len(shown):
                text += f"\n  ... and {self.total_problems - len(shown)} more (showing the first {len(shown)} of {self.total_problems})"
        return text


class BreakdownClash(InputError):
    """Refused history that breaks values down differently (by channel or
    campaign) from what another batch stored for the same dates: added
    together they would count the same amounts twice."""


class DatabaseBusyError(Exception):
    """Another process kept the database file locked for longer than we wait.

    `holder` names what holds it when known ("python3.11, process 4242"), for
    a message that says what to wait for; None when the lock's owner is unknown.
    `writing` is True when the open that gave up was a writable one (a
    change may have been asked for, and was not made).
    """

    def __init__(self, message: str, *, holder: str | None = None, writing: bool = False):
        self.holder, self.writing = holder, writing
        super().__init__(message)


class DatabaseSchemaError(RuntimeError):
    """The file's schema is not the one this release reads.

    `found` is the file's schema version (0: no file, or no Lodestar schema in
    it), `known` this release's. A newer file is always refused; a missing or
    older one only by an open that must not write (a viewer's read).
    """

    def __init__(self, message: str, *, found: int, known: int):
        self.found, self.known = found, known
        super().__init__(message)


class ReadOnlyDatabaseError(PermissionError):
    """A write on a connection opened read-only (a dashboard viewer's):
    refused by DuckDB before anything was written."""
