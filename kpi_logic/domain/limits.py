"""The limits of reading a file, in one place (README "Limits and safety" lists them).

Each is set past anything a real export reaches, so only a damaged or
hostile file meets one; the refusal names the limit. Together they bound the
memory an import takes, whatever the file: a workbook is measured as a
stream before python-calamine reads it (workbook_scan), a CSV is read by
DuckDB, which spills to disk, and every cell that reaches the store is short.
"""
from __future__ import annotations

# Any file, CSV or workbook.
MAX_FILE_BYTES = 2 * 1024 ** 3        # the CLI; the dashboard's upload cap is in .streamlit/config.toml
MAX_ROWS = 20_000_000                 # data rows of one file or sheet
MAX_COLUMNS = 2_000                   # a wide file of 1,999 metrics; Excel allows 16,384
MAX_CELL_CHARS = 32_767               # Excel's own limit for a cell
MAX_METRICS_PER_FILE = 10_000         # different metrics in one history table
LARGEST_NUMBER = 1e100                # a value's size (a googol): past any real quantity, and
                                      # far enough below a double's 1.8e308 that no sum of
                                      # values overflows (PostgreSQL stops a query that does)
MAX_NAME_CHARS = 200                  # a metric's name (a key, not a description); a server
                                      # indexes it, and an index entry holds at most 2,704 bytes
MAX_LABEL_CHARS = 80                  # a metric's display name: a card's title, not a sentence
MAX_NOTE_CHARS = 2_000                # a check-in's note: a paragraph, not a report

# CSV. The header must end within the first SNIFF_BYTES (2,000 columns of 128 characters).
SNIFF_BYTES = 256 * 1024
MAX_LINE_BYTES = 2 * 1024 ** 2        # one CSV record (DuckDB's max_line_size)

# Workbooks (.xlsx): python-calamine holds a sheet's whole rectangle, so these
# are measured before it opens the file.
MAX_PARTS = 1_000                     # files inside the .xlsx zip (a real one has tens)
MAX_UNPACKED_BYTES = 1024 ** 3        # every part unpacked, together
MAX_RATIO = 100                       # unpacked / packed size of a part past RATIO_FLOOR
RATIO_FLOOR = 1024 ** 2               # (real sheets pack 5 to 25 times; a zip bomb 1,000)
MAX_XML_PART_BYTES = 32 * 1024 ** 2   # workbook.xml, styles.xml, relationships: metadata
MAX_CELLS = 4 * 1_048_576             # a full Excel sheet of four columns: each sheet's
                                      # rectangle from A1 to its last filled cell, all sheets together
MAX_TEXT_CHARS = 100_000_000          # text of every cell, a shared string counted at each use


def size_text(size: int) -> str:
    """1073741824 -> "1 GB", 33554432 -> "32 MB", 262144 -> "256 KB" (binary units, as a
    file manager shows them)."""
    for unit, scale in (("GB", 1024 ** 3), ("MB", 1024 ** 2), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:,.0f} {unit}" if size % scale == 0 else f"{size / scale:,.1f} {unit}"
    return f"{size:,} bytes"
