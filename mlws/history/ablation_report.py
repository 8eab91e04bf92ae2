"""The `mlws report` section for ablations: each `mlws ablate RUN` result kept in the workspace's
state (.mlws/ablations/RUN/result.json) as a table of changes with their effect, share of the gain
and verdict. Every string is escaped (keys and values come from configs). Pure."""

from __future__ import annotations

import html
import json
from pathlib import Path


def stored(state_dir: Path) -> list[dict]:
    """The ablation results kept under the workspace's state, by run id."""
    folder = Path(state_dir) / "ablations"
    out = []

    def number(path: Path) -> int:
        return int(path.parent.name) if path.parent.name.isdigit() else 0

    for path in sorted(folder.glob("*/result.json"), key=number):
        try:
            out.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue
    return out


def _number(x: dict, percent: bool = False) -> str:
    if x.get("estimate") is None:
        return "-"
    fmt = (lambda v: f"{v * 100:.0f}%") if percent else (lambda v: f"{v:+.3g}")
    text = fmt(x["estimate"])
    return text if x.get("low") is None else f"{text} [{fmt(x['low'])}, {fmt(x['high'])}]"


def section(results: list[dict]) -> str:
    """HTML for the report: one table per ablation; empty without any."""
    if not results:
        return ""
    out = ["<h2>which change bought the gain (mlws ablate)</h2>"]
    for r in results:
        gain = r["gain"]
        out.append(
            f"<h3>run {int(r['run'])} against its parent, run {int(r['parent'])}</h3>"
            f"<p>gain in {html.escape(str(r['metric']))}: {_number(gain)}, {html.escape(gain['verdict'])} "
            f"({len(r['seeds'])} seed(s) per configuration)</p>"
        )
        rows = ["<tr><th>change</th><th>effect [95% CI]</th><th>share of gain</th><th></th></tr>"]
        for name, e in r["effects"].items():
            words = {True: "matters", False: "within seed noise"}.get(e.get("matters"), "-")
            rows.append(
                f"<tr><td><code>{html.escape(name)}</code></td><td>{_number(e['effect'])}</td>"
                f"<td>{_number(e['share'], percent=True)}</td><td>{words}</td></tr>"
            )
        out.append("<table>" + "".join(rows) + "</table>")
        out.append(f"<p>interaction (gain minus the sum of single effects): {_number(r['interaction'])}</p>")
    return "".join(out)


def with_section(page: str, results: list[dict]) -> str:
    """The report page with the ablation section at the end of its body."""
    extra = section(results)
    if not extra or "</body>" not in page:
        return page
    head, _, tail = page.rpartition("</body>")
    return head + extra + "</body>" + tail
