"""Numbers, changes, statuses and periods as people read them.

Pure functions shared by the dashboard, the PNG reports and the CLI. Values
arrive as the engine stores them: percent-unit values and relative changes
are fractions (0.125 = 12.5%), durations are hours, money has no currency
code (shown as $). Anything missing (numbers.is_missing: None, NaN, pd.NA,
infinite, not a number) is shown as "—".
"""
from __future__ import annotations

import math
from datetime import date

from kpi_logic.domain.errors import InputError
from kpi_logic.domain.numbers import (
    is_missing,  # re-exported: pages and reports call fmt.is_missing
)
from kpi_logic.domain.periods import parse_period

MISSING = "—"
MINUS = "-"

_COMPACT = ((1e3, "k"), (1e6, "M"), (1e9, "B"), (1e12, "T"))
_COMPACT_FROM = 10_000    # 1,234 is read faster in full; 12,345 is read faster as 12.3k

# Colour-blind safe (Okabe-Ito hues, darkened to be readable as text on white);
# every status also has a word and an icon so colour is never the only signal.
GOOD, WARN, BAD, NEUTRAL, ACHIEVED = "#0B7A5A", "#B26B00", "#C2410C", "#6B7280", "#0066A6"
_STATUS_STYLE = {
    "healthy": ("Healthy", "✔", GOOD),
    "at_risk": ("At risk", "⚠", WARN),
    "unhealthy": ("Unhealthy", "✖", BAD),
    "no_data": ("No data", "○", NEUTRAL),
    "achieved": ("Achieved", "★", ACHIEVED),
    "on_track": ("On track", "✔", GOOD),
    "off_track": ("Off track", "✖", BAD),
    "missed": ("Missed", "✖", BAD),
}
TONE_COLOURS = {"good": GOOD, "bad": BAD, "neutral": NEUTRAL}

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _significant(number: float, digits: int = 3) -> str:
    """`digits` significant digits (3: 1.23, 12.3, 123), never fewer than none after
    the point; for numbers of at least 1."""
    decimals = max(0, digits - (1 if number < 10 else 2 if number < 100 else 3))
    return f"{number:,.{decimals}f}"


def _compact(number: float, digits: int = 3) -> str:
    """12.3k, 1.23M, 4.56B; a value that rounds up to 1,000 of a suffix takes the next one."""
    for index, (size, suffix) in enumerate(_COMPACT):
        bigger = _COMPACT[index + 1][0] if index + 1 < len(_COMPACT) else math.inf
        text = _trimmed(_significant(number / size, digits))
        if number < bigger and (float(text.replace(",", "")) < 1000 or bigger is math.inf):
            return text + suffix
    return _trimmed(_significant(number / 1e12, digits)) + "T"


def _trimmed(text: str) -> str:
    """Drop zeros after the point that carry no information: "60.0" -> "60"."""
    return text.rstrip("0").rstrip(".") if "." in text else text


def _is_zero_text(text: str) -> bool:
    """True when a formatted value shows no non-zero digit (it rounded to zero)."""
    return not any(ch in "123456789" for ch in text)


# Durations keep their metric's own scale on every line of a card, so a value,
# its target and its change are read in one unit: "5.6 h" with "-0.85 h", never
# "-51 min" beside hours. A metric counted in minutes says so with its unit.
_SUFFIX = {"duration": " h", "minutes": " min"}


def _magnitude(number: float, unit: str) -> str:
    """The unsigned body of a formatted value (no sign, no currency symbol)."""
    if unit == "percent":
        pct = number * 100
        return f"{pct:,.0f}%" if pct >= 100 else f"{pct:.1f}%"
    if unit in _SUFFIX:
        if number >= 100:
            return f"{number:,.0f}{_SUFFIX[unit]}"
        return _trimmed(f"{number:.2f}" if number < 1 else f"{number:.1f}") + _SUFFIX[unit]
    if number >= _COMPACT_FROM:
        return _compact(number)
    if unit == "currency" and number < 100 and number != int(number):
        return f"{number:.2f}"
    if number == int(number) or number >= 100:
        return f"{number:,.0f}"
    return f"{number:.2f}" if number < 1 else f"{number:.1f}"


def _in_full(number: float, unit: str, decimals: int, trim: bool = False) -> str:
    """The unsigned body written out with `decimals` places and no suffix letter:
    "143,093", "80.04%", "5.63 h" (trimmed of zeros that say nothing when `trim`)."""
    digits = f"{number * (100 if unit == 'percent' else 1):,.{decimals}f}"
    if trim:    # cents stay two places ($2,152.10); other zeros after the point go
        digits = digits.removesuffix(".00") if unit == "currency" else _trimmed(digits)
    return digits + ("%" if unit == "percent" else _SUFFIX.get(unit, ""))


def _signed(number: float, body: str, unit: str) -> str:
    body = "$" + body if unit == "currency" else body
    return MINUS + body if number < 0 and not _is_zero_text(body) else body


def format_value(value: object, unit: str = "number", *, whole: bool = False) -> str:
    """A value with its unit: "1,234", "$12.3k", "12.5%", "3.2 h", "12.6 min"; "—"
    when missing.

    Units outside number/currency/percent/duration/minutes are shown as numbers.
    `whole`: rounded to a whole number first, half away from zero (daily
    budgets read as "$80", not "$79.82"); a page's slider with "%,.0f" rounds
    the same way, so a slider and its label agree.
    """
    if is_missing(value):
        return MISSING
    number = float(value)
    if whole:
        number = math.copysign(math.floor(abs(number) + 0.5), number)
    return _signed(number, _magnitude(abs(number), unit), unit)


def format_exact(value: object, unit: str = "number") -> str:
    """A value as stored, to two places at most: "143,093", "$2,152.17", "93.12%",
    "5.63 h" (for the CLI and the hover text, where a reader checks the figure);
    "—" when missing."""
    if is_missing(value):
        return MISSING
    number = float(value)
    return _signed(number, _in_full(abs(number), unit, 2, trim=True), unit)


def format_exact_delta(value: object, unit: str = "number") -> str:
    """A change as stored, with its sign: "+$0.99", "-1,861", "-8.66 pp" (a change of
    a percent in points); "—" when missing."""
    if is_missing(value):
        return MISSING
    number = float(value)
    body = (f"{abs(number) * 100:,.2f} pp" if unit == "percent"
            else format_exact(abs(number), unit))
    return body if _is_zero_text(body) else ("+" if number > 0 else MINUS) + body


def _exactly(text_value: float, number: float) -> bool:
    return math.isclose(text_value, number, rel_tol=1e-12, abs_tol=1e-12)


def format_target(value: object, unit: str = "number") -> str:
    """A target as it was set: short where that is exact ("143k", "$40", "3.0%"),
    with a fourth digit where that makes it exact ("143.5k"), else in full
    ("143,250"); "—" when missing."""
    if is_missing(value):
        return MISSING
    number, short = float(value), format_value(value, unit)
    size = abs(number) * (100 if unit == "percent" else 1)
    if abs(number) >= _COMPACT_FROM and unit not in ("percent", *_SUFFIX):
        scale = next((s for s, _ in reversed(_COMPACT) if abs(number) >= s), 1.0)
        for digits in (3, 4):
            body = _compact(abs(number), digits)
            if _exactly(float(body[:-1].replace(",", "")) * scale, abs(number)):
                return _signed(number, body, unit)
    else:
        shown = short.lstrip("-$").rstrip("%hmin ").replace(",", "")
        try:
            if _exactly(float(shown), size):
                return short
        except ValueError:
            pass
    for decimals in range(0, 5):
        if _exactly(round(size, decimals), size):
            return _signed(number, _in_full(abs(number), unit, decimals), unit)
    return format_exact(value, unit)


def value_and_target(value: object, target: object,
                     unit: str = "number") -> tuple[str, str]:
    """A value and its target, each as short as reads well but never the same text
    when they differ: 143,093 against 143,000 is "143,093" and "143,000", not
    "143k" twice, so the margin to the target stays visible."""
    shown, goal = format_value(value, unit), format_target(target, unit)
    if MISSING in (shown, goal) or float(value) == float(target):
        return shown, goal
    if goal[-1].isdigit() and not shown[-1].isdigit() and unit in ("number", "currency"):
        # a target written in full is read beside the value in full, not "143k"
        shown = _signed(float(value), _in_full(abs(float(value)), unit, 0), unit)
    if shown != goal:
        return shown, goal
    for decimals in range(0, 5):
        a = _in_full(abs(float(value)), unit, decimals)
        b = _in_full(abs(float(target)), unit, decimals)
        if a != b:
            return _signed(float(value), a, unit), _signed(float(target), b, unit)
    return format_exact(value, unit), format_exact(target, unit)


def format_count(value: object) -> str:
    """A count in full, rounded to a whole number: 12,743 (never "12.7k", so a
    column of counts reads alike); "—" when missing."""
    if is_missing(value):
        return MISSING
    number = float(value)
    # Half away from zero, as people round (Python's format rounds half to even).
    whole = math.floor(abs(number) + 0.5)
    return f"{'-' if number < 0 and whole else ''}{whole:,}"


def format_count_delta(value: object) -> str:
    """A change of a count with its sign, in whole numbers: "+1,861", "-75", "0"."""
    text = format_count(value)
    return text if text in (MISSING, "0") or text.startswith("-") else "+" + text


def format_progress(value: object) -> str:
    """A progress or share as a whole percent: 0.55 -> "55%"; "—" when missing."""
    if is_missing(value):
        return MISSING
    percent = float(value) * 100
    # 99.7% must not read as done: only a reached target shows 100%
    if 99.5 <= percent < 100:
        return "99%"
    return f"{percent:,.0f}%"


def format_delta(value: object, unit: str = "number", *, whole: bool = False) -> str:
    """An absolute change with its sign: "+$1.2k", "-3", "+0.5 pp"; "—" when missing.

    A change of a percent-unit value is in percentage points (0.005 -> "+0.5 pp");
    `whole` as format_value's.
    """
    if is_missing(value):
        return MISSING
    number = float(value)
    if unit == "percent":
        points = abs(number) * 100
        # A move under 0.05 pp keeps two significant digits ("-0.0018 pp"), not a
        # "0.0 pp" that hides it and every driver of it; float noise stays "0.0 pp".
        places = 1 if not 1e-4 <= points < 0.05 else 1 - math.floor(math.log10(points))
        body = f"{points:.{places}f} pp"
    else:
        body = format_value(abs(number), unit, whole=whole)
    if _is_zero_text(body):
        return body      # rounds to zero: a sign would claim a direction
    return ("+" if number > 0 else MINUS) + body


def format_pct_change(pct: object, abs_change: object = None) -> str:
    """A relative change with its sign: "+12.5%"; "new" when it is undefined
    because the previous value was zero (abs_change given, pct missing); "—" otherwise."""
    if is_missing(pct):
        return "new" if not is_missing(abs_change) and float(abs_change) != 0 else MISSING
    body = _magnitude(abs(float(pct)), "percent")
    if _is_zero_text(body):
        return body
    return ("+" if float(pct) > 0 else MINUS) + body


def format_change(change: dict | None, unit: str = "number") -> str:
    """A change {abs, pct[, base]} as "+$1.2k (+12.5%)", "+5,000 (new)" or "—".

    When the change carries its base (the earlier value) and that is not zero, a
    missing pct means the value crossed zero: the absolute change says it all
    ("-48.7 pp"), with no "new" and no percentage."""
    change = change or {}
    absolute = change.get("abs")
    if is_missing(absolute):
        return MISSING
    base = change.get("base")
    if is_missing(change.get("pct")) and not is_missing(base) and float(base) != 0:
        return format_delta(absolute, unit)
    return f"{format_delta(absolute, unit)} ({format_pct_change(change.get('pct'), absolute)})"


def change_tone(abs_change: object, direction: str = "up") -> str:
    """"good", "bad" or "neutral": a rise is good news only when higher is better."""
    if is_missing(abs_change) or float(abs_change) == 0:
        return "neutral"
    rising = float(abs_change) > 0
    return "good" if rising == (direction != "down") else "bad"


def change_arrow(abs_change: object) -> str:
    """▲ for a rise, ▼ for a fall, "" otherwise (the shape carries the sign, not colour)."""
    if is_missing(abs_change) or float(abs_change) == 0:
        return ""
    return "▲" if float(abs_change) > 0 else "▼"


def status_word(status: str | None) -> str:
    """The status in words: "At risk", "On track"; unknown statuses are title-cased."""
    status = status or "no_data"
    return _STATUS_STYLE.get(status, (status.replace("_", " ").capitalize(),))[0]


def confidence_words(confidence: str | None) -> str:
    """A check-in's confidence as read: "high" -> "high confidence", "7" -> "confidence 7/10"."""
    if not confidence:
        return ""
    return f"confidence {confidence}/10" if confidence.isdigit() else f"{confidence} confidence"


def checkin_line(checkin: dict, subject: str | None = None) -> str:
    """"Book 2,000 demos, 2026-W49: Webinar booked (low confidence) - Sam Okafor, 5 Dec"."""
    head = f"{subject}, {checkin['period']}" if subject else checkin["period"]
    extra = confidence_words(checkin.get("confidence"))
    when = checkin.get("at")
    by = " - " + ", ".join(x for x in (checkin.get("by"), when and _short_day(when)) if x) \
        if checkin.get("by") or when else ""
    return f"{head}: {checkin['note']}" + (f" ({extra})" if extra else "") + by


def _short_day(stamp: str) -> str:
    day = date.fromisoformat(stamp[:10])
    return f"{day.day} {day:%b}"


def status_icon(status: str | None) -> str:
    return _STATUS_STYLE.get(status or "no_data", ("", "•", NEUTRAL))[1]


def status_colour(status: str | None) -> str:
    return _STATUS_STYLE.get(status or "no_data", ("", "", NEUTRAL))[2]


def status_badge(status: str | None) -> str:
    """Icon and word together, e.g. "⚠ At risk"."""
    return f"{status_icon(status)} {status_word(status)}"


def target_rule(target: object, target_kind: str, unit: str = "number",
                value: object = None) -> str:
    """The KPI's rule in words: "at least 3.0%", "at most $40", "at least 143.5k"
    (a value equal to the target meets it: pages say so once, not on every card).

    Given the value it is read beside, the target has as many digits as keep the
    two apart (value_and_target)."""
    if is_missing(target):
        return "no target"
    bound = "at most" if target_kind == "max" else "at least"
    return f"{bound} {value_and_target(value, target, unit)[1]}"


def period_bounds(label: str) -> tuple[date, date]:
    """First and last day of an engine period label ("2025-03-01", "2025-W09",
    "2025-03", "2025-Q1", "2025"), read by periods.parse_period.

    Refuses other text with ValueError (carrying parse_period's message), so
    chart code can skip a period it cannot place without knowing InputError.
    """
    try:
        _, start, end = parse_period(label)
    except InputError as exc:
        raise ValueError(str(exc)) from exc
    return start, end


def human_period(label: object) -> str:
    """"2025-03" -> "Mar 2025", "2025-Q1" -> "Q1 2025", "2025-W09" -> "Week 9, 2025",
    "2025-03-01" -> "1 Mar 2025"; other text is returned unchanged, None as "—"."""
    if label is None or label == "":
        return MISSING
    text = str(label).strip()
    try:
        grain, start, _ = parse_period(text)
    except InputError:
        return text
    if grain == "day":
        return human_date(start)
    if grain == "week":
        year, week, _ = start.isocalendar()
        return f"Week {week}, {year}"
    if grain == "quarter":
        return f"Q{(start.month - 1) // 3 + 1} {start.year}"
    if grain == "month":
        return f"{_MONTHS[start.month - 1]} {start.year}"
    return str(start.year)


def human_date(value: object) -> str:
    """A date as "16 May 2025" (accepts a date or an ISO string); "—" when missing."""
    if value is None or value == "":
        return MISSING
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value)[:10])
        except ValueError:
            return str(value)
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


def comparison_label(label: object) -> str:
    """"vs Mar 2025" from a period label; text that already says "vs ..." is kept."""
    if label is None or label == "":
        return ""
    text = str(label).strip()
    return text if text.lower().startswith("vs") else f"vs {human_period(text)}"


# Words a metric name spells as capitals. A list, not a rule of length: "leads",
# "cost" or "sales" are short words, not acronyms.
_ACRONYMS = {"nps", "cac", "mrr", "arr", "roi", "ebit", "ebitda", "csat", "dau", "wau", "mau",
             "ltv", "cpa", "cpc", "cpm", "ctr", "kpi", "hr", "aov", "sla", "arpu", "gmv"}


def metric_words(name: object) -> str:
    """A metric's stored name as words inside a sentence: "churn_rate" -> "churn rate",
    "paid_cac" -> "paid CAC"; "—" when missing."""
    words = str(name or "").replace("_", " ").split()
    if not words:
        return MISSING
    return " ".join(w.upper() if w.lower() in _ACRONYMS else w for w in words)


def metric_label(name: object, label: str | None = None) -> str:
    """A metric's display name: its own label when it has one, else its stored name
    as words with a capital first letter, "page_views" -> "Page views", "nps" ->
    "NPS"; "—" when missing."""
    if label:
        return label
    words = metric_words(name)
    return words[:1].upper() + words[1:]


def display_name(metric) -> str:
    """A Metric definition's display name (metric_label of its name and label)."""
    return metric_label(metric.name, metric.label)


def dimension_label(value: object) -> str:
    """A dimension value as people read it: "search_ads" -> "Search ads", "EMEA" stays,
    "" -> "(none)". The stored value stays the key a CLI flag or a file uses."""
    text = str(value if value is not None else "").strip()
    if not text:
        return "(none)"
    if "_" not in text and not text.islower():
        return text       # written as its owner writes it: "EMEA", "Google Ads"
    return metric_label(text)


# ---------------------------------------------------------------- why it moved

def chance_words(chance: object) -> str:
    """A chance as people say it: "99% chance", "under 1% chance", "over 99% chance"."""
    if is_missing(chance):
        return ""
    percent = float(chance) * 100
    if percent < 1:
        return "under 1% chance"
    if percent > 99:
        return "over 99% chance"
    return f"{percent:.0f}% chance"


def forecast_range(forecast: dict, unit: str = "number", *, by: object = None,
                   target: object = None) -> str:
    """A forecast's value and its 80% range, "$40.95 (80% range $37.77–$44.14)"; with
    a date `by`, "680 by 31 Dec 2026 (80% range 646–715)"; the value alone without a
    range. Figures are exact where short ones would blur with `target` (forecast_format)."""
    shown = forecast_format(forecast, unit, target)
    text = shown(forecast.get("value"))
    if by is not None:
        text += f" by {human_date(by)}"
    low, high = forecast.get("low"), forecast.get("high")
    if not (is_missing(low) or is_missing(high)):
        dash = " to " if min(float(low), float(high)) < 0 else "–"   # "-$5 to $3", not "-$5–$3"
        text += f" (80% range {shown(low)}{dash}{shown(high)})"
    return text


def target_chance(forecast: dict, unit: str = "number", target: object = None) -> str:
    """"90% chance of meeting the target"; with a `target` figure, "87% chance of
    reaching 5,000"; "" when the forecast has no chance."""
    words = chance_words(forecast.get("chance_of_target"))
    if not words:
        return ""
    if is_missing(target):
        return f"{words} of meeting the target"
    return f"{words} of reaching {forecast_format(forecast, unit, target)(target, target=True)}"


def forecast_line(kpi: dict, *, by: object = None, target: object = None,
                  lead: str = "heading for") -> str | None:
    """"heading for 4,640 (80% range 4,350–4,930): over 99% chance of meeting the
    target" for a scorecard entry with a forecast; with a date `by` and a `target`,
    "heading for 4,640 by 31 Dec 2026 (...): 87% chance of reaching 5,000"; `lead`
    the words before the figure. None without one."""
    ahead = kpi.get("forecast")
    if not ahead:
        return None
    unit = kpi.get("unit") or "number"
    text = f"{lead} {forecast_range(ahead, unit, by=by, target=target)}"
    chance = target_chance(ahead, unit, target)
    return f"{text}: {chance}" if chance else text


def forecast_format(ahead: dict, unit: str, target: object):
    """A formatter for a forecast's figures (and, with target=True, its target's):
    format_value and format_target, or format_exact for all when short figures would
    blur them ("heading for 4.5: 28% chance of reaching 4.5" for 4.46)."""
    if is_missing(target):
        return lambda v, target=False: format_value(v, unit)
    numbers = [ahead[k] for k in ("value", "low", "high") if not is_missing(ahead.get(k))]
    texts = [format_value(v, unit) for v in numbers]
    blurred = any(t == format_target(target, unit) and not _exactly(float(v), float(target))
                  for v, t in zip(numbers, texts, strict=True)) or len(set(texts)) < len(texts)
    if blurred:
        return lambda v, target=False: format_exact(v, unit)
    return lambda v, target=False: (format_target if target else format_value)(v, unit)


def kr_forecast_line(kr: dict) -> str | None:
    """Where an OKR report's key result is heading by its deadline: "heading for 680 by
    31 Dec 2026 (80% range 646–715): under 1% chance of reaching 2,000"; None
    without a forecast (ended, not started, no data).

    A level or rate is forecast from where it stands (method so_far), corrected by
    how it moved over as long a time before; a key result being moved may well
    leave that path, so its line says what the figure rests on: "going by where it
    stands and how it moved before, 4.32 by 31 Dec 2026 (...): under 1% chance of
    reaching 4.5" (without a record, "going by where it stands, ...")."""
    ahead = kr.get("forecast") or {}
    lead = "heading for" if ahead.get("method") != "so_far" else (
        "going by where it stands"
        + (" and how it moved before," if ahead.get("backtested_periods") else ","))
    return forecast_line(kr, by=kr.get("deadline"), target=kr.get("target"), lead=lead)


def heading_note(entry: dict) -> str | None:
    """Where a scorecard entry's running period is heading: its forecast, else its
    plain pace ("on pace for 1,085 of 1,000"); None for a complete period."""
    return forecast_line(entry) or pace_note(entry)


def period_note(entry: dict) -> str:
    """What a scorecard entry's period holds beyond its value, as the CLI says it:
    its coverage, then where it is heading (heading_note): "so far: data through
    6 Dec; heading for 4,639 (...)"; "" for a complete period."""
    return "; ".join(n for n in (coverage_note(entry), heading_note(entry)) if n)


def explanation_line(explained: dict, most: int = 3) -> str:
    """A KPI's change and its largest drivers in one sentence: "CAC fell $0.95 (-2.3%)
    vs Oct 2026: Marketing spend -$1.94, New customers +$0.99"; a share of the change
    per dimension value after it ("by channel: Display +$1.20, ..."), then per campaign
    ("by campaign: Brand terms -$0.40, ...")."""
    unit = explained.get("unit") or "number"
    change = explained.get("change") or {}
    head = explained.get("metric_label") or explained.get("kpi") or ""
    if is_missing(change.get("abs")):
        return f"{head}: {explained.get('note') or 'nothing to compare'}"
    moved = "rose" if change["abs"] > 0 else "fell" if change["abs"] < 0 else "held"
    text = (f"{head} {moved} {format_delta(abs(change['abs']), unit).lstrip('+')}"
            f" ({format_pct_change(change.get('pct'), change['abs'])}) "
            f"{comparison_label(explained.get('compared_with'))}")
    drivers = explained.get("drivers") or []
    if len(drivers) > 1:
        text += ": " + ", ".join(f"{d['label']} {format_delta(d['contribution'], unit)}"
                                 for d in drivers[:most])
    for _, word, shares in explanation_splits(explained):
        text += f"; by {word}: " + ", ".join(
            f"{s['label']} {format_delta(s['contribution'], unit)}" for s in shares[:most])
    return text


def explanation_splits(explained: dict) -> list[tuple[str, str, list[dict]]]:
    """The breakdowns an explanation (metrics/explain.py) has shares for, as (key, word,
    shares): ("dimension", "channel", by_dimension), ("campaign", "campaign",
    by_campaign); the empty ones left out."""
    return [(key, word, shares) for key, word, shares in (
        ("dimension", explained.get("dimension_name") or "dimension",
         explained.get("by_dimension") or []),
        ("campaign", "campaign", explained.get("by_campaign") or [])) if shares]


# ---------------------------------------------------------------- coverage in words

def short_date(value: object) -> str:
    """"10 Mar" (the year left out: it is the period's own); "—" when missing."""
    text = human_date(value)
    return text.rsplit(" ", 1)[0] if text != MISSING and text.count(" ") == 2 else text


def coverage_note(entry: dict) -> str | None:
    """What the data say of a scorecard entry's period, or None when it is complete:
    "so far: data through 10 Mar" (partial), "no data since 10 Mar 2025" (stale),
    "no data yet" (never any)."""
    through = entry.get("data_through")
    if entry.get("stale"):
        return f"no data since {human_date(through)}"
    if entry.get("partial"):
        return f"so far: data through {short_date(through)}" if through else "so far"
    if through is None and entry.get("status") == "no_data":
        return "no data yet"
    return None


def partial_note(period: object, start: object = None, through: object = None) -> str:
    """Why a period of a metric's history holds only part of its days: "from 15 Mar"
    (the range starts inside it), "so far: data through 6 Dec" (the data, as far
    as they cover, end inside it), or both ("15 Mar to 6 Dec only"); "partial"
    when neither date says more."""
    try:
        first, last = period_bounds(str(period))
    except ValueError:
        return "partial"
    begins, ends = _iso_day(start), _iso_day(through)
    begins = begins if begins is not None and begins > first else None
    ends = ends if ends is not None and ends < last else None
    if begins and ends:
        return f"{short_date(begins)} to {short_date(ends)} only"
    if begins:
        return f"from {short_date(begins)}"
    return f"so far: data through {short_date(ends)}" if ends else "partial"


def _iso_day(value: object) -> date | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def pace_note(entry: dict) -> str | None:
    """"on pace for 1,085 of 1,000" for a KPI judged on pace; None otherwise."""
    pace = entry.get("pace")
    if not pace or is_missing(pace.get("projected")):
        return None
    unit = entry.get("unit", "number")
    return (f"on pace for {format_value(pace['projected'], unit)} of "
            f"{format_value(entry.get('target'), unit)}")


def measured_note(kr: dict) -> str | None:
    """Which value a key result stands at: "total since 1 Oct 2026", "last 28 days to
    5 Dec 2026", "latest, 5 Dec 2026"; None without data."""
    measured = kr.get("measured")
    if not measured:
        return None
    if measured["kind"] == "total":
        return f"total since {human_date(measured['from'])}"
    if measured["kind"] == "latest" or measured["from"] == measured["to"]:
        return f"latest, {human_date(measured['to'])}"
    days = (date.fromisoformat(measured["to"]) - date.fromisoformat(measured["from"])).days + 1
    return f"last {days} days to {human_date(measured['to'])}"


def trend_values(history: list[dict]) -> list[float]:
    """A history's values for a sparkline, oldest first, gaps left out; a partial
    period of a summed KPI at its pace (where it is heading), as the trend chart
    draws it, not as a fall to the days so far."""
    values = []
    for point in history or []:
        value = (point.get("pace") or {}).get("projected", point.get("value"))
        if not is_missing(value):
            values.append(float(value))
    return values
