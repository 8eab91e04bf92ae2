"""How much a run cost, from its record alone: pure functions that each backend's `cost()` calls.

Every answer has the same shape, the `cost` of `mlws runs --json` / `show --json`:

    {"usd": 1.23 | None,   # None: no price is known; the run is shown by its time only
     "hours": 0.5,         # the hours the price applies to (billed, wall or worker-hours)
     "basis": "...",       # one line: how the number was reckoned
     "final": True}        # False while the run goes on (the spend so far)

- a run on this machine: wall time (recorded start to end, less the time a resumed run lay stopped)
  × `cost.local_hourly` (0: time only);
- a run on a cluster's workers: worker-hours (wall time × compute.num_workers) × compute.hourly_rate;
- a cloud run: its node's spend ledger (the seconds billed, provisioning, setup and the gaps between
  a preemption and the resumed job included, each stretch at the price of the offering it ran on),
  else wall time × the catalog's hourly price at launch.
"""

from __future__ import annotations

from datetime import datetime, timezone


def wall_hours(record: dict, now: datetime | None = None) -> float:
    """Hours from the run's recorded start to its end (or to `now` while it goes on)."""
    start = record.get("started_at") or record.get("created_at")
    if not start:
        return 0.0
    end = record.get("ended_at")
    begin = _when(start)
    finish = _when(end) if end else (now or datetime.now(timezone.utc))
    return max((finish - begin).total_seconds() - _idle_seconds(record), 0.0) / 3600.0


def _idle_seconds(record: dict) -> float:
    """The time a resumed run lay stopped or killed: from each recorded end (`stopped_at` of
    artifacts.resumes) to its `mlws resume`, which is not spent."""
    idle = 0.0
    for resumed in (record.get("artifacts") or {}).get("resumes") or []:
        if isinstance(resumed, dict) and resumed.get("stopped_at") and resumed.get("at"):
            try:
                idle += max((_when(resumed["at"]) - _when(resumed["stopped_at"])).total_seconds(), 0.0)
            except (TypeError, ValueError):
                continue
    return idle


def _when(text: str) -> datetime:
    moment = datetime.fromisoformat(str(text))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _final(record: dict) -> bool:
    return record.get("status") not in (None, "running")


def _rate(value) -> float | None:
    """A configured hourly rate: a positive number, else None (0 or unset: no price, time only)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return None
    return float(value)


def time_only(record: dict, why: str = "wall time; no price known for this backend") -> dict:
    return {"usd": None, "hours": round(wall_hours(record), 6), "basis": why, "final": _final(record)}


def local(record: dict) -> dict:
    """This machine: wall time × cost.local_hourly (0 or unset: time only)."""
    rate = _rate(((record.get("config") or {}).get("cost") or {}).get("local_hourly"))
    hours = wall_hours(record)
    if rate is None:
        return {
            "usd": None,
            "hours": round(hours, 6),
            "final": _final(record),
            "basis": "local wall time; set cost.local_hourly to price it",
        }
    return {
        "usd": round(hours * rate, 6),
        "hours": round(hours, 6),
        "final": _final(record),
        "basis": f"local wall time × cost.local_hourly ${rate:g}/h",
    }


def workers(record: dict, compute: dict) -> dict:
    """A cluster's workers: worker-hours (wall time × compute.num_workers) × compute.hourly_rate."""
    n = compute.get("num_workers") or 1
    n = n if isinstance(n, int) and n > 0 else 1
    worker_hours = wall_hours(record) * n
    rate = _rate(compute.get("hourly_rate"))
    out = {"hours": round(worker_hours, 6), "workers": n, "final": _final(record)}
    if rate is None:
        return out | {
            "usd": None,
            "basis": f"worker-hours (wall time × {n} worker{'s' if n != 1 else ''}); "
            "set compute.hourly_rate to price them",
        }
    return out | {
        "usd": round(worker_hours * rate, 6),
        "basis": f"worker-hours (wall time × {n} worker{'s' if n != 1 else ''}) × compute.hourly_rate ${rate:g}/h",
    }


def cloud(record: dict) -> dict | None:
    """A cloud run: its spend ledger when the record holds one (copied from the node), else wall time
    × the hourly price SkyPilot's catalog gave at launch; None when neither is known."""
    artifacts = record.get("artifacts") or {}
    estimate = artifacts.get("estimate") or {}
    ledger = artifacts.get("ledger")
    known = {"instance_type": estimate.get("instance_type")} if estimate.get("available") else {}
    if isinstance(ledger, dict) and ledger.get("billed_seconds") is not None:
        usd, seconds, prices = ledger_spend(ledger, estimate.get("hourly_price"))
        if usd is not None:
            shown = ", ".join(f"${p:g}/h" for p in prices)
            return {
                "usd": round(usd, 6),
                "hours": round(seconds / 3600.0, 6),
                "final": _final(record),
                "basis": f"cloud spend ledger: billed time (provisioning, setup, recovery gaps) × {shown}",
                "hourly_price": prices[-1],
                "spend": round(usd, 4),
                **known,
            }
    if not estimate.get("available"):
        return None
    price = float(estimate["hourly_price"])
    hours = wall_hours(record)
    return {
        "usd": round(price * hours, 6),
        "hours": round(hours, 6),
        "final": _final(record),
        "basis": f"wall time × ${price:g}/h ({estimate.get('instance_type') or 'catalog'} price at launch, "
        f"{estimate.get('num_nodes') or 1} node(s))",
        "hourly_price": price,
        "spend": round(price * hours, 4),
        **known,
    }


def ledger_spend(ledger: dict, fallback_price=None) -> tuple[float | None, float, list[float]]:
    """(usd, billed seconds, the prices used) of a spend ledger. A ledger with `segments` (one per
    VM the job ran on: {seconds, hourly_price}) prices each at its own offering; one without, all
    its billed seconds at its one price."""
    seconds = float(ledger.get("billed_seconds") or 0.0)
    segments = [s for s in ledger.get("segments") or [] if isinstance(s, dict)]
    if segments:
        usd = sum(float(s["seconds"]) * float(s["hourly_price"]) for s in segments) / 3600.0
        counted = sum(float(s["seconds"]) for s in segments)
        last = float(segments[-1]["hourly_price"])
        usd += max(seconds - counted, 0.0) * last / 3600.0  # seconds after the last saved segment
        return usd, seconds, list(dict.fromkeys(float(s["hourly_price"]) for s in segments))
    price = ledger.get("hourly_price", fallback_price)
    if price is None:
        return None, seconds, []
    return seconds * float(price) / 3600.0, seconds, [float(price)]


def add_up(costs: list[dict | None]) -> dict:
    """{usd, hours, runs, priced}: usd sums the priced runs (None when none is priced)."""
    costs = [c for c in costs if c]
    priced = [c["usd"] for c in costs if c.get("usd") is not None]
    return {
        "usd": round(sum(priced), 6) if priced else None,
        "hours": round(sum(c.get("hours") or 0 for c in costs), 6),
        "runs": len(costs),
        "priced": len(priced),
    }


def money(usd: float | None, hours: float | None = None) -> str:
    """$1.23 (or $0.0042 below a cent); time only (`13 s`, `4.2 min`, `1.50 h`) when there is no price."""
    if usd is None:
        return "—" if hours is None else duration(hours)
    return f"${usd:.2f}" if abs(usd) >= 0.01 or usd == 0 else f"${usd:.4f}"


def duration(hours: float) -> str:
    """`13 s`, `4.2 min`, `1.50 h`: a time as people read it."""
    seconds = hours * 3600.0
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{hours:.2f} h"
