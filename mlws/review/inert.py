"""Strings from a branch (file names, keys, values, notes, experiment names) made inert.

In the pull-request comment they sit in code spans: no backtick can close the span, no newline can
start a heading, no pipe can split a table cell, and `@` / `<` are neutralised as well, so nothing
becomes a mention, a link, an image or an HTML tag even where a span is not read as one. In a
terminal, control characters (ANSI escapes that clear the screen, carriage returns that overwrite
a line) and invisible format characters are shown as escapes instead of acted on.
"""

from __future__ import annotations

import unicodedata

ZERO_WIDTH_SPACE = "\u200b"


def shown(text) -> str:
    """Pure: text with every control or format character written as an escape (`\\x1b`, `\\n`)."""
    out = []
    for ch in str(text):
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs"):  # Cs: a file name's non-UTF-8 byte
            out.append(ch.encode("unicode_escape", errors="backslashreplace").decode("ascii"))
        else:
            out.append(ch)
    return "".join(out)


def shown_lines(text) -> str:
    """Pure: like shown(), keeping line breaks (a message of several lines stays readable)."""
    return "\n".join(shown(line) for line in str(text).split("\n"))


def md_code(text) -> str:
    """Pure: the inside of a markdown code span (also safe in a table cell)."""
    text = shown(text).replace("`", "'").replace("|", "\\|")
    return text.replace("@", "@" + ZERO_WIDTH_SPACE).replace("<", "‹")


def md_span(text) -> str:
    """Pure: text from a branch as one inert code span."""
    return f"`{md_code(text)}`"


def md_block(text) -> str:
    """Pure: multi-line text (an error message) as a fenced block nothing can close."""
    lines = [md_code(line).replace("\\|", "|") for line in str(text).splitlines()]
    return "```\n" + "\n".join(lines) + "\n```\n"
