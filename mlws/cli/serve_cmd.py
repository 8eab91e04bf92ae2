"""mlws serve [run] RUN [compute overrides] [--port P] [--host H] [--insecure] [--detach [--verbose]]
[--export FILE] [--dry-run] | serve list [--json] | serve stop RUN"""

from __future__ import annotations

from .render import print_json

USAGE = "mlws serve RUN [compute overrides] [options] | mlws serve list [--json] | mlws serve stop RUN"


def add_arguments(p) -> None:
    p.usage = USAGE
    sub = p.add_subparsers(dest="action", metavar="{RUN,list,stop}", required=True)
    run = sub.add_parser(
        "run",
        prog="mlws serve",
        help="serve RUN's model, here or where compute overrides say (the word `run` may be left out)",
        description="Serve a run's model: here (Ray Serve), or where compute overrides say (compute=sky)",
        usage="mlws serve RUN [compute overrides] [options]",
    )
    run.add_argument("run", metavar="RUN", help="the run id")
    run.add_argument("overrides", nargs="*", default=[], help="compute overrides, e.g. compute=sky compute.cpus=8")
    run.add_argument("--port", type=port_number, help="1 to 65535 (default: serve.port, 8000)")
    run.add_argument("--host", help="address to bind (default 127.0.0.1, from serve.host)")
    run.add_argument(
        "--insecure",
        action="store_true",
        help="serve without a token where other machines can reach it (a non-loopback --host; compute=sky)",
    )
    run.add_argument("--detach", action="store_true", help="serve in the background")
    run.add_argument(
        "--verbose", action="store_true", help="with --detach: show Ray's own lines too (else only in the log)"
    )
    run.add_argument("--export", metavar="FILE", help="write a Ray Serve config (serve run FILE / KubeRay) instead")
    run.add_argument("--dry-run", action="store_true", help="with compute overrides: print the task, launch nothing")
    run.add_argument("--json", action="store_true")
    listing = sub.add_parser(
        "list", prog="mlws serve list", help="the servers this workspace started, here and elsewhere"
    )
    listing.add_argument("--json", action="store_true")
    stop = sub.add_parser(
        "stop",
        prog="mlws serve stop",
        usage="mlws serve stop RUN",
        help="stop a run's server (the backend that started it takes it down)",
    )
    stop.add_argument("run", metavar="RUN", help="the run id")


def run(args) -> int:
    return {"run": _serve, "list": _list, "stop": _stop}[args.action](args)


def _run_id(word: str, expected: str) -> int:
    from mlws.errors import MlwsError

    if not word.isdigit():
        raise MlwsError(f"expected {expected}, got {word!r}")
    return int(word)


def _list(args) -> int:
    from mlws import api

    servers = api.serve_list()
    if args.json:
        print_json(servers)
        return 0
    for s in servers:
        print(f"run {s['run_id']}  {s.get('url') or '-'}  ({s.get('where') or '?'})")
    if not servers:
        print("no servers running")
    return 0


def _stop(args) -> int:
    from mlws import api

    state = api.serve_stop(_run_id(args.run, "a run id after `mlws serve stop`"))
    print(f"stopped the server for run {state['run_id']} ({state.get('where') or state.get('url')})")
    return 0


def port_number(text: str) -> int:
    """argparse's type for --port: a TCP port, else argparse's one line and exit 2."""
    import argparse

    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port (1 to 65535)")
    return port


def _serve(args) -> int:
    from mlws import api

    run_id = _run_id(args.run, "a run id, `list` or `stop` after `mlws serve`")
    if args.export:
        path = api.serve_export(run_id, args.export, host=args.host, port=args.port)
        print(f"wrote {path}: deploy with `serve run {path}` (or as a KubeRay RayService serveConfigV2)")
        return 0
    announce = lambda url: print(f"run {run_id}: API {url}/predict · demo page {url}/ · info {url}/info", flush=True)
    progress = (lambda line: None) if args.json else (lambda line: print(line, flush=True))
    result = api.serve(
        run_id,
        args.overrides,
        host=args.host,
        port=args.port,
        detach=args.detach,
        insecure=args.insecure,
        verbose=args.verbose,
        dry_run=args.dry_run,
        ready=announce,
        progress=progress,
    )
    if "signal" in result:  # a server in the foreground, stopped by Ctrl-C or SIGTERM: the shell's status
        return 128 + result["signal"]
    if args.json:
        print_json(result)
        return 0
    if args.dry_run:
        from .plan_cmd import _yaml

        print("# task that would serve run %d (nothing launched)" % run_id)
        print(_yaml(result["task"]), end="")
    for line in result.get("lines") or []:
        print(f"# {line}")
    if args.dry_run:
        return 0
    url = result["url"]
    print(f"run {run_id} served on {result.get('where') or 'its backend'}: {url}/ (API: {url}/predict)")
    if result.get("token"):
        print(
            f"token (shown once, kept nowhere): {result['token']}\n"
            f"  send `Authorization: Bearer <token>`; the demo page asks for it once"
        )
    print(f"in the background; stop with: mlws serve stop {run_id}")
    return 0
