"""Text from data shown as text in Streamlit's Markdown.

st.markdown, st.caption, titles, alerts, widget labels, help tooltips,
metric labels, tabs, expanders, popovers and page links all read Markdown:
a KPI owner `![p](http://host/x.png)` would make every viewer's browser
fetch that address, `[x](http://host)` would become a live link. Streamlit
adds `:red[...]` colours, `:material/icon:` and emoji shortcodes, `$...$`
LaTeX and arrows from `->` on top of CommonMark. Every piece of data text
(metric, department, KPI and key result titles, owners, objectives,
descriptions, formulas, channels, campaigns, launch and scenario names, file
and sheet names, messages quoting a cell) goes through `md_text` before it
meets Markdown, and only the page's own wording stays markup.
"""
from __future__ import annotations

import re

from kpi_logic.domain import formatting as fmt

# Every ASCII punctuation character may be backslash-escaped in CommonMark and
# then stands for itself; escaping them all covers links, images, emphasis,
# code, headings, lists, tables, HTML, entities (&amp;), autolinks (the "." of
# www.x and the ":" of http://), directives (:red[...]) and LaTeX ($).
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# Some of Streamlit's Markdown plugins read the text after escapes are undone,
# so escaping cannot stop them: shortcodes (emoji, :material_x:, :streamlit:),
# bare addresses made links (http://..., www.x, a@b.co) and arrows (" -> " to
# "→"). An invisible word joiner inside each such pattern does.
WORD_JOINER = "\u2060"
_JOINED = re.compile(
    r":(?=[\w+-]+:)"                   # :smile:, :material_home:, :100:
    r"|:(?=//)"                         # http://host
    r"|(?<=www)(?=\.)"                  # www.host (any case: flags below)
    r"|@(?=[\w-])"                      # name@host.org
    r"|(?:^|(?<=\s))(?=(?:<->|->|<-|--|>=|<=|~=)(?:\s|$))", re.IGNORECASE)


def md_text(value: object, *, keep_lines: bool = False) -> str:
    """`value` as Markdown that renders as exactly its text: "" for None.

    Runs of spaces, tabs and line breaks become one space (a label or a
    sentence has one line); `keep_lines` keeps each line, ending the previous
    one with a Markdown hard break (for messages that list problems).
    """
    if value is None:
        return ""
    lines = str(value).splitlines() if keep_lines else [str(value)]
    return "  \n".join(_escaped(" ".join(line.split())) for line in lines if line.strip())


def _escaped(line: str) -> str:
    joined = _JOINED.sub(lambda m: m.group() + WORD_JOINER, line)
    return _PUNCTUATION.sub(r"\\\1", joined)


def md_code(value: object) -> str:
    """`value` as a Markdown code span (for metric names and formulas): shown
    in code type, exactly as written. Nothing inside a code span is Markdown,
    so only its fence must be longer than any run of backticks in the text."""
    text = " ".join(str("" if value is None else value).split())
    if not text:
        return ""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    padded = f" {text} " if text.startswith("`") or text.endswith("`") else text
    return f"{fence}{padded}{fence}"


# Streamlit's Markdown colours for a status, as the PNG reports colour it
# (formatting's GOOD, WARN, BAD, NEUTRAL, ACHIEVED).
STATUS_MARKDOWN_COLOURS = {"healthy": "green", "on_track": "green", "at_risk": "orange",
                           "unhealthy": "red", "off_track": "red", "missed": "red",
                           "achieved": "blue", "no_data": "gray"}
# A change's colour by its meaning for the metric's direction (formatting.change_tone).
TONE_MARKDOWN_COLOURS = {"good": "green", "bad": "red", "neutral": "gray"}


def md_status(status: str | None, text: str | None = None) -> str:
    """The status badge ("✖ Unhealthy"), or `text` (Markdown already made safe),
    in the status's colour: the same colours as the PNG reports."""
    colour = STATUS_MARKDOWN_COLOURS.get(status or "no_data", "gray")
    return f":{colour}[{text if text is not None else fmt.status_badge(status)}]"
