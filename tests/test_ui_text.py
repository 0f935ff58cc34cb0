"""ui.text: data text in Markdown renders as exactly its text.

A CommonMark parser (markdown-it-py) stands in for the browser here: escaped
text must come back as one paragraph of plain text, never a link, image,
emphasis, code, HTML or heading. Streamlit's own additions (shortcodes, bare
addresses made links, arrows, colours, LaTeX) are checked in a real browser
by tests/test_e2e_hostile.py.
"""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from tests.hostile import HOSTILE
from ui.text import WORD_JOINER, md_code, md_text

COMMONMARK = MarkdownIt("commonmark").enable(["table", "strikethrough"])
# Text without NUL (CommonMark replaces it) and lone surrogates (not text).
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))


def rendered(markdown: str) -> tuple[str, set[str]]:
    """(the text a reader sees, the kinds of token it was parsed into)."""
    tokens = COMMONMARK.parse(markdown)
    kinds = {t.type for t in tokens}
    text = []
    for token in tokens:
        for child in token.children or ():
            kinds.add(child.type)
            if child.type in ("text", "code_inline"):
                text.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                text.append("\n")
    return "".join(text).replace(WORD_JOINER, ""), kinds


@given(TEXT)
def test_escaped_text_renders_as_exactly_its_text(text):
    shown, kinds = rendered(md_text(text))
    assert shown == " ".join(text.split())
    assert kinds <= {"paragraph_open", "inline", "text", "paragraph_close"}


@given(TEXT)
def test_a_code_span_shows_its_text_literally(text):
    shown, kinds = rendered(md_code(text))
    assert shown == " ".join(text.split())
    assert kinds <= {"paragraph_open", "inline", "code_inline", "paragraph_close"}


@given(st.lists(TEXT, min_size=1, max_size=4))
def test_kept_lines_render_as_lines_of_text(lines):
    text = "\n".join(lines)
    shown, kinds = rendered(md_text(text, keep_lines=True))
    expected = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    assert shown.split("\n") == (expected or [""])
    assert kinds <= {"paragraph_open", "inline", "text", "hardbreak", "paragraph_close"}


@pytest.mark.parametrize("payload", HOSTILE)
def test_every_hostile_payload_is_text_inside_a_sentence(payload):
    markdown = f"**Owner:** {md_text(payload)} · target {md_text('$40')}"
    shown, kinds = rendered(markdown)
    assert shown == f"Owner: {' '.join(payload.split())} · target $40"
    assert not kinds & {"link_open", "image", "html_inline", "html_block", "em_open"}


@pytest.mark.parametrize("text, joined", [
    (":smile:", ":\u2060smile:"), (":material_home:", ":\u2060material_home:"),
    ("http://host", "http:\u2060//host"), ("WWW.host", "WWW\u2060.host"),
    ("a@b.co", "a@\u2060b.co"), ("a -> b", "a \u2060-> b"), ("10:30", "10:30"),
    ("Owner: Mia", "Owner: Mia")])
def test_patterns_streamlit_finds_in_unescaped_text_get_an_invisible_joiner(text, joined):
    # Streamlit's shortcode, autolink and arrow plugins read text after escapes
    # are undone; the joiner is the only change, and only where they would match.
    assert md_text(text).replace("\\", "") == joined


def test_none_is_empty_and_code_spans_outgrow_backticks_in_the_text():
    assert md_text(None) == "" and md_code(None) == ""
    assert md_code("a`b") == "``a`b``"
    assert md_code("`x`") == "`` `x` ``"


def test_a_status_is_coloured_as_in_the_png_reports():
    from ui.text import md_status
    assert md_status("unhealthy") == ":red[✖ Unhealthy]"
    assert md_status("at_risk", "**⚠ At risk**") == ":orange[**⚠ At risk**]"
    assert md_status("healthy", "✔") == ":green[✔]"
    assert md_status(None) == ":gray[○ No data]"
