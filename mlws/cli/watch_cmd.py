"""mlws watch RUN [--once] [--json]: live metrics, loss trend, hardware use, step rate, ETA, warnings."""

from __future__ import annotations

import time

from .render import print_json

SPARK = "▁▂▃▄▅▆▇█"


def add_arguments(p) -> None:
    p.add_argument("run_id", type=int)
    p.add_argument("--once", action="store_true", help="print one snapshot and exit")
    p.add_argument("--json", action="store_true", help="with --once: the snapshot as JSON")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between refreshes")
    p.add_argument("--patience", type=int, default=5, help="warn after this many evaluations without improvement")
    p.add_argument("--stall-minutes", type=float, default=5.0, help="warn when nothing new for this long")
    p.add_argument(
        "--refresh-every",
        type=float,
        default=15.0,
        help="seconds between asking a remote run's backend for its status (files are read every interval)",
    )


def run(args) -> int:
    from mlws import api
    from mlws.monitor.alerts import Thresholds

    thresholds = Thresholds(patience=args.patience, stall_minutes=args.stall_minutes)
    snap = api.watch(args.run_id, thresholds=thresholds, refresh=True)
    if args.json:
        print_json(snap)
        return 0
    from rich.console import Console
    from rich.live import Live

    console = Console()
    if args.once:
        console.print(render(snap))
        print_wandb_view(console, snap)
        return 0
    asked = time.monotonic()
    with Live(render(snap), console=console, refresh_per_second=4, screen=False) as live:
        # printed above the live view, once: a command in the view itself would be cut to its width
        shown = print_wandb_view(live.console, snap)
        while snap["status"] == "running":
            time.sleep(args.interval)
            refresh = time.monotonic() - asked >= args.refresh_every  # a backend call is bounded in rate
            asked = time.monotonic() if refresh else asked
            snap = api.watch(args.run_id, thresholds=thresholds, refresh=refresh)
            live.update(render(snap))
            shown = shown or print_wandb_view(live.console, snap)
    return 0


def print_wandb_view(console, snap: dict) -> bool:
    """W&B's own terminal view of the run, the command whole on its own line (the terminal
    soft-wraps it; copied, it is one piece)."""
    from .render import print_whole

    if not snap.get("wandb_view"):
        return False
    console.print("W&B's own terminal view:", style="dim", highlight=False)
    print_whole(console, snap["wandb_view"])
    return True


def sparkline(values: list[float]) -> str:
    if not values:
        return ""
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0
    return "".join(SPARK[int((v - lo) / span * (len(SPARK) - 1))] for v in values)


def _fmt(value, unit: str = "", digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}{unit}"


def render(snap: dict):
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    p, hw = snap["progress"], snap["hardware"]
    colour = {"running": "yellow", "succeeded": "green", "failed": "red", "stopped": "magenta"}.get(
        snap["status"], "white"
    )
    head = Text.assemble((f"run {snap['id']} · {snap['experiment']} · ", "bold"), (snap["status"], f"bold {colour}"))
    if snap.get("stop_reason"):
        head.append(f" ({snap['stop_reason']})")
    progress = Text(
        f"step {p['step'] if p['step'] is not None else '-'}/{p['total_steps'] or '?'}  "
        f"epoch {p['epoch'] if p['epoch'] is not None else '-'}  "
        f"{_fmt(p['steps_per_sec'], ' steps/s')}  ETA {_fmt(p['eta_s'], ' s', 0)}"
    )
    metrics = Table("metric", "latest", title="metrics", title_justify="left")
    for key in sorted(snap["metrics"]):
        metrics.add_row(key, f"{snap['metrics'][key]:.4f}")
    hardware = Table("resource", "use", title="hardware", title_justify="left")
    hardware.add_row("CPU (system)", _fmt(hw.get("cpu_percent"), "%"))
    hardware.add_row("CPU (this run)", _fmt(hw.get("process_cpu_percent"), "%"))
    hardware.add_row("memory (this run)", _fmt(hw.get("memory_mb"), " MB", 0))
    hardware.add_row(
        "waiting for data", _fmt(100 * hw["data_wait_fraction"], "%") if "data_wait_fraction" in hw else "-"
    )
    for gpu in hw.get("gpus", []):
        hardware.add_row(
            f"GPU {gpu['index']}",
            f"{_fmt(gpu.get('util_percent'), '%')} util, "
            f"{_fmt(gpu.get('memory_mb'), ' MB', 0)}, {_fmt(gpu.get('power_w'), ' W', 0)}",
        )
    resumes = snap.get("resumes") or []
    carried = f"  · resumed {len(resumes)}× (last: {resumes[-1]})" if resumes else ""
    parts = [
        head,
        progress,
        Text(f"data: {snap.get('data') or 'not recorded'}{carried}", style="dim"),
        Text(f"{snap.get('trend_metric') or 'metric'} trend {sparkline(snap['loss_trend'])}"),
        metrics,
        hardware,
    ]
    for warning in snap["warnings"]:
        parts.append(Text(f"⚠ {warning}", style="bold red"))
    return Group(*parts)
