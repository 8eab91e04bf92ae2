"""mlws show RUN [--json]"""
from __future__ import annotations

from .render import console, format_metrics, print_json


def add_arguments(p) -> None:
    p.add_argument("run_id", type=int)
    p.add_argument("--json", action="store_true")
    p.add_argument("--refresh", action="store_true", help="ask the run's backend (a cluster, a cloud) for its status first")


def run(args) -> int:
    from mlws import api
    record = api.show(args.run_id, refresh=args.refresh)
    if args.json:
        print_json(record)
        return 0
    import yaml
    git = record["git"]
    out = console()
    out.print(f"[bold]run {record['id']}[/bold] · {record['experiment']} · {record['status']}", highlight=False)
    for label, value in [("command", record["command"]), ("created", record["created_at"]),
                         ("ended", record["ended_at"]), ("metrics", format_metrics(record["metrics"], tuple(sorted(record["metrics"] or {})))),
                         ("git", f"{git.get('commit')} ({'dirty' if git.get('dirty') else 'clean'})"),
                         ("labels", ", ".join(record["labels"] or [])), ("note", record["note"]),
                         ("parent", record["parent_id"]), ("stopped", record["stop_reason"]),
                         ("cost", _cost_line(record)),
                         ("run dir", record["run_dir"]), ("error", record["error"])]:
        if value:
            out.print(f"{label:>9}: {value}", highlight=False)
    for name, path in ((record["artifacts"] or {}).get("checkpoints") or {}).items():
        out.print(f"{'ckpt ' + name:>9}: {path}", highlight=False)
    print(yaml.safe_dump(record["config"], sort_keys=False), end="")
    return 0


def _cost_line(record: dict) -> str | None:
    from mlws.api import cost
    c = cost(record)
    return f"${c['spend']:.2f} so far at ${c['hourly_price']:.2f}/hour ({c['instance_type']})" if c else None
