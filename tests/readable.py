"""What a page's Markdown reads as, for tests that assert on page text.

Pages write data text through ui.text.md_text (backslash escapes, invisible
word joiners); a reader sees the text itself. Test helper, not a renderer.
"""
from __future__ import annotations

import re


def shown(markdown: str) -> str:
    """`markdown` with its backslash escapes undone and word joiners dropped."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown).replace("\u2060", "")


def plain(text: str) -> str:
    """Text with its whitespace as Markdown shows it: runs become one space."""
    return " ".join(str(text).split())
