"""mlws show RUN [--json]"""

from __future__ import annotations

from .render import console, format_metrics, print_json


def add_arguments(p) -> None:
    p.add_argument("run_id", type=int)
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--refresh", action="store_true", help="ask the run's backend (a cluster, a cloud) for its status first"
    )


def run(args) -> int:
    from mlws import api

    record = api.show(args.run_id, refresh=args.refresh)
    if args.json:
        print_json(record)
        return 0
    import yaml
    from rich.markup import escape

    git = record["git"]
    out = console()
    out.print(
        f"[bold]run {record['id']}[/bold] · {escape(str(record['experiment']))} · {record['status']}", highlight=False
    )
    for label, value in [
        ("command", record["command"]),
        ("created", record["created_at"]),
        ("ended", record["ended_at"]),
        ("metrics", format_metrics(record["metrics"], tuple(sorted(record["metrics"] or {})))),
        ("git", f"{git.get('commit')} ({'dirty' if git.get('dirty') else 'clean'})"),
        ("labels", ", ".join(record["labels"] or [])),
        ("note", record["note"]),
        ("parent", record["parent_id"]),
        (
            "replicates",
            record.get("replicate_group")
            and record["replicate_group"]["text"]
            + f" (group {record['replicate_group']['group']}: runs "
            + ", ".join(str(r) for r in record["replicate_group"]["runs"])
            + ")",
        ),
        ("rerun of", record.get("rerun_of") and f"run {record['rerun_of']}"),
        ("stopped", record["stop_reason"]),
        ("cost", _cost_line(record)),
        ("run dir", record["run_dir"]),
        ("data", _data_line(record)),
        ("error", record["error"]),
    ]:
        if value:  # soft-wrapped by the terminal, never folded: a path or a command copies whole
            out.print(f"{label:>9}: {value}", highlight=False, markup=False, soft_wrap=True)
    for label, value in _artifact_lines(record):
        out.print(f"{label:>9}: {value}", highlight=False, markup=False, soft_wrap=True)
    print(yaml.safe_dump(record["config"], sort_keys=False), end="")
    return 0


def _artifact_lines(record: dict) -> list[tuple[str, str]]:
    """The best checkpoint with its score (by the run's monitor metric), the last, then any other."""
    artifacts = record["artifacts"] or {}
    ckpts = dict(artifacts.get("checkpoints") or {})
    score, metric = ckpts.pop("best_score", None), (record.get("monitor") or {}).get("metric")
    from .render import weights_of

    lines = [("weights", f"{path} ({name})") for name, path in weights_of(record)]
    if "best" in ckpts:
        shown = f"  ({metric or 'score'} {score:.4f})" if isinstance(score, (int, float)) else ""
        lines.append(("best ckpt", ckpts.pop("best") + shown))
    if "last" in ckpts:
        lines.append(("last ckpt", ckpts.pop("last")))
    lines += [("ckpt", f"{path} ({name})") for name, path in ckpts.items()]
    lines += [("media", f"{path} ({name})") for name, path in (artifacts.get("media") or {}).items()]
    if artifacts.get("log"):
        n = artifacts.get("warnings") or 0
        lines.append(("log", artifacts["log"] + (f" ({n} warning{'s' if n != 1 else ''})" if n else "")))
    return lines


def _data_line(record: dict) -> str:
    """The data the run saw: its fingerprint and how it was taken, or why it was not."""
    fp = (record.get("artifacts") or {}).get("data")
    if not fp:
        return "not fingerprinted (recorded before fingerprints, or the run had not started)"
    if not fp.get("digest"):
        return fp.get("reason") or "not fingerprinted"
    how = fp.get("method", "")
    if how == "files":
        n = fp.get("files")
        paths = ", ".join(f"{k}={v}" for k, v in (fp.get("paths") or {}).items())
        how = f"{n} file{'' if n == 1 else 's'}, {fp.get('bytes')} bytes under {paths}"
    return f"{fp['digest']} ({how})"


def _cost_line(record: dict) -> str | None:
    """`$1.23 (0.52 h; local wall time × cost.local_hourly $2.4/h)`, or the hours alone when unpriced."""
    from mlws.spend.reckon import duration, money

    c = record.get("cost")
    if not c:
        return None
    so_far = "" if c.get("final", True) else " so far"
    if c.get("usd") is None:
        return f"{duration(c['hours'])}{so_far} ({c['basis']})"
    return f"{money(c['usd'])}{so_far} ({duration(c['hours'])}; {c['basis']})"
