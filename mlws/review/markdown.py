"""`mlws diff --git REF --format markdown`: one pull-request comment, kept under GitHub's size limit.

The first line is a fixed marker, so a bot can find its earlier comment and edit it instead of
adding a new one on every push.
"""

from __future__ import annotations

from ..history.diff import short
from .inert import md_block, md_code, md_span

MARKER = "<!-- mlws-diff -->"
LIMIT = 60_000  # GitHub refuses comments over 65,536 characters (UTF-16 units, as JS counts)
MAX_NOTES = 20
FOLD_ROWS = 10  # longer tables are folded into <details>
CELL_WIDTH = 60
CUT = "\n_Details cut to fit a comment: `mlws diff --git` prints them all._\n"


def render(result: dict) -> str:
    ref, commit = result["ref"], result["commit"][:10]
    entries = result["experiments"]
    head = [MARKER, f"### mlws: effective configs against {md_span(ref)} ({md_span(commit)})", ""]
    head.append(_summary(result))
    if result.get("files"):
        head.append(
            "Files: "
            + ", ".join(md_span(short(f, CELL_WIDTH * 2)) for f in result["files"][:30])
            + (f" and {len(result['files']) - 30} more" if len(result["files"]) > 30 else "")
            + "."
        )
    if result.get("uncommitted"):
        head.append(
            f"Compared with the working tree, which has uncommitted changes in {len(result['uncommitted'])} file(s)."
        )
    notes = result.get("notes") or []
    head += [f"> note: {md_span(short(note, CELL_WIDTH * 4))}" for note in notes[:MAX_NOTES]]
    if len(notes) > MAX_NOTES:
        head.append(f"> … and {len(notes) - MAX_NOTES} more notes (`mlws diff --git` prints them all)")
    out = "\n".join(head) + "\n"
    # Full sections while the rest still fits as one line each; then one line each; then a count.
    lines = [f"- {_title(e)}\n" for e in entries]
    rest = [0] * (len(entries) + 1)
    for i in range(len(entries) - 1, -1, -1):
        rest[i] = rest[i + 1] + _units(lines[i])
    shown = 0
    for i, entry in enumerate(entries):
        section = "\n" + _section(entry, ref)
        if _units(out) + _units(section) + rest[i + 1] + _units(CUT) + 100 > LIMIT:
            break
        out, shown = out + section, shown + 1
    if shown == len(entries):
        return out
    out += "\n"
    for i in range(shown, len(entries)):
        if _units(out) + _units(lines[i]) + _units(CUT) + 100 > LIMIT:
            out += f"- … and {len(entries) - i} more\n"
            break
        out += lines[i]
    return out + CUT


def _units(text: str) -> int:
    """Length as GitHub and the comment job's JavaScript count it: UTF-16 code units."""
    return len(text.encode("utf-16-le", errors="surrogatepass")) // 2


def _summary(result: dict) -> str:
    entries = result["experiments"]
    if not entries:
        return f"No experiment's effective config changes ({result['total']} checked)."
    counts: dict[str, int] = {}
    for e in entries:
        counts[e["status"]] = counts.get(e["status"], 0) + 1
    parts = ", ".join(f"{n} {status}" for status, n in counts.items())
    return f"**{len(entries)}** of {result['total']} experiment(s) differ: {parts}."


def _title(e: dict, span=md_span, word=md_code) -> str:
    title = f"{span(e['experiment'])} — {word(e['status'])}"
    if e.get("renamed_from"):
        title += f" (from {span(e['renamed_from'])})"
    if e.get("builds_on"):
        title += f" (builds on {span(e['builds_on'])})"
    n = len(e["changed"]) + len(e["added"]) + len(e["removed"])
    return title + (f", {n} key(s)" if n else "")


def _section(e: dict, ref: str) -> str:
    rows = _rows(e)
    body = ""
    if e.get("error"):
        body += md_block(e["error"])
    if rows:
        left = md_span(e["builds_on"] or ref)
        body += f"| key | {left} | this branch |\n|---|---|---|\n" + "".join(rows)
    if not body:
        body = "_effective config unchanged_\n"
    if e.get("replicates"):
        body += "\n" + replicates_block(e["replicates"])
    if len(rows) > FOLD_ROWS:
        return f"<details><summary>{_html_title(e)}</summary>\n\n{body}\n</details>\n"
    return f"#### {_title(e)}\n\n{body}"


def _rows(e: dict) -> list[str]:
    rows = [f"| {md_span(k)} | {_cell(a)} | {_cell(b)} |\n" for k, (a, b) in e["changed"].items()]
    rows += [f"| {md_span(k)} | — | {_cell(v)} |\n" for k, v in e["added"].items()]
    rows += [f"| {md_span(k)} | {_cell(v)} | — |\n" for k, v in e["removed"].items()]
    return rows


def _cell(value) -> str:
    return md_span(short(value, CELL_WIDTH))


def _html_title(e: dict) -> str:
    """The title inside <summary>, where markdown is not read: HTML-escaped, branch strings in <code>."""
    import html

    word = lambda text: html.escape(md_code(text))
    return _title(e, span=lambda text: f"<code>{word(text)}</code>", word=word)


def step_texts(rep: dict) -> tuple[str, str, str]:
    """(before, after, difference) of a step's recorded results: each side as mean ± sd [95% CI] over
    its seeds, and the difference with its interval and whether seed noise explains it. Computed
    here from the raw values (mlws.stats, the functions `mlws diff A B` uses), never taken as text
    from the artifact."""
    from ..history.groups import comparison, comparison_words
    from ..stats import summarize, summary_text

    sides = []
    for key in ("before", "after"):
        side = rep[key]
        s = summarize(side["values"])
        text = summary_text(s) if s else "no recorded runs"
        if side["runs"]:
            text += f" (run{'s' if len(side['runs']) > 1 else ''} {_ids(side['runs'])})"
        sides.append(({"values": side["values"], "metric": rep["metric"], "mode": rep["mode"]}, text))
    (a, a_text), (b, b_text) = sides
    diff = comparison_words(comparison(a, b)) if a["values"] and b["values"] else "no values on one side"
    return a_text, b_text, diff


def replicates_block(rep: dict) -> str:
    """The step's recorded results as a table under the experiment's section."""
    a_text, b_text, diff = step_texts(rep)
    return (
        f"**results** in {md_span(rep['metric'])} ({rep['mode']} is better; mean ± sd [95% CI] over seeds):\n\n"
        f"| {md_span(rep['before']['label'])} | {md_span(rep['after']['label'])} | difference |\n"
        f"|---|---|---|\n| {a_text} | {b_text} | {diff} |\n"
    )


def _ids(ids: list[int]) -> str:
    return ", ".join(str(i) for i in ids[:8]) + (f" and {len(ids) - 8} more" if len(ids) > 8 else "")
