"""The demo company: Brightpath, a made-up software company with six
departments, 2+ years of history, KPIs, two quarters of OKRs and a marketing
launch. It is built in memory as the files an analyst would upload (CSV and
xlsx) and loaded through the real importer, so the demo exercises the same
path as anyone's own files.

Its parts: demo_history (the numbers), demo_definitions (metrics and the
launch), demo_plans (KPIs, targets and key results set from the numbers).
"""
from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
from openpyxl import Workbook

from kpi_logic.demo.history import generated_history, number_texts
from kpi_logic.demo.measures import launch_rows, metric_rows
from kpi_logic.demo.plans import WORKBOOK_KPI_DEPARTMENTS, key_result_rows, kpi_rows, target_rows
from kpi_logic.demo.reviews import checkin_rows, objective_rows
from kpi_logic.domain.errors import BreakdownClash
from kpi_logic.domain.safe_text import spreadsheet_safe_workbook
from kpi_logic.store import Store

DEMO_SEED = 20261127


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV; dates as ISO text, whole numbers without ".0", empty cells
    for missing values. Does not mutate `frame`."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].dt.strftime("%Y-%m-%d")
        elif pd.api.types.is_float_dtype(out[column]) and out[column].notna().all():
            out[column] = number_texts(out[column])
    return out.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _cell(value):
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, (float, np.floating)) and np.isnan(value):
        return None
    return value.item() if isinstance(value, np.generic) else value


def workbook_bytes(sheets: dict[str, pd.DataFrame], stamp: date) -> bytes:
    """An xlsx with one sheet per frame (dates as Excel date cells). The same
    sheets and stamp give the same bytes."""
    book = Workbook()
    book.remove(book.active)
    for name, frame in sheets.items():
        sheet = book.create_sheet(name)
        sheet.append(list(frame.columns))
        for row in frame.itertuples(index=False):
            sheet.append([_cell(v) for v in row])
    spreadsheet_safe_workbook(book)
    raw = io.BytesIO()
    book.save(raw)
    return _stable_zip(raw.getvalue(), f"{stamp.isoformat()}T00:00:00Z".encode())


def _stable_zip(data: bytes, stamp: bytes) -> bytes:
    # openpyxl stamps the save time into the file and its zip entries; pin them
    # so re-running the demo yields the same sha256 and imports as "unchanged".
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*",
                                 lambda m: m.group(1) + stamp, content)
            dst.writestr(zipfile.ZipInfo(info.filename, (1980, 1, 1, 0, 0, 0)), content,
                         compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def demo_files(end: date | None = None, seed: int = DEMO_SEED) -> list[tuple[bytes, str]]:
    """The demo company's files as (content, file name), history ending `end`
    (default yesterday). The same end and seed give the same bytes."""
    end = end or date.today() - timedelta(days=1)
    history = generated_history(end, np.random.default_rng(seed))
    obs = history.observations
    kpis = kpi_rows(obs, end)
    in_workbook = kpis["department"].isin(WORKBOOK_KPI_DEPARTMENTS)
    files = [(csv_bytes(metric_rows()), "metrics.csv")]
    files += [(csv_bytes(frame), name) for name, frame in history.csv_files.items()]
    sheets = {**history.workbook_sheets, "kpis": kpis[in_workbook]}
    files.append((workbook_bytes(sheets, end), "company_monthly.xlsx"))
    key_results = key_result_rows(obs, end)
    files += [(csv_bytes(kpis[~in_workbook]), "kpis.csv"),
              (csv_bytes(target_rows(obs, end)), "targets.csv"),
              (csv_bytes(objective_rows(end)), "objectives.csv"),
              (csv_bytes(key_results), "key_results.csv"),
              (csv_bytes(launch_rows(history.launch_date)), "launches.csv"),
              (csv_bytes(checkin_rows(key_results, end)), "checkins.csv")]
    return files


def load_demo(store: Store, end: date | None = None, seed: int = DEMO_SEED) -> list:
    """Imports the demo company into `store` in one run through the importer and
    records that the demo was loaded ("demo_loaded": its end date) and which
    run holds it ("demo_run", so that run alone can be undone). A re-load that
    changes nothing keeps the earlier run. A demo an earlier release loaded
    with another breakdown (channels without campaigns) is undone and loaded
    again. Returns the ImportResults."""
    from kpi_logic.ingest.importing import import_files  # late: the importer is heavier
    from kpi_logic.ingest.undo import list_batches, undo_run

    end = end or date.today() - timedelta(days=1)
    files = demo_files(end, seed)
    try:
        results = import_files(store, files)
    except BreakdownClash:
        earlier = store.settings.get("demo_run")
        if earlier is None:
            raise
        undo_run(store, int(earlier))
        results = import_files(store, files)
    store.settings.set("demo_loaded", end.isoformat())
    batches = {r.batch for r in results if r.batch is not None}
    listed = list_batches(store)
    runs = listed.loc[listed["id"].isin(batches), "run_id"].dropna().unique()
    if len(runs):
        store.settings.set("demo_run", str(int(runs[0])))
    return results
