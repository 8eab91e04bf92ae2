"""mlws notebook [start] [compute overrides] [--detach] | notebook list | notebook status NAME | notebook stop NAME"""

from __future__ import annotations

from .render import print_json
from .serve_cmd import port_number

USAGE = "mlws notebook [compute overrides] [options] | mlws notebook list [--json] | mlws notebook status|stop NAME"


def add_arguments(p) -> None:
    p.usage = USAGE
    sub = p.add_subparsers(dest="action", metavar="{start,list,status,stop}", required=True)
    start = sub.add_parser(
        "start",
        prog="mlws notebook",
        help="start JupyterLab, here or where compute overrides say (the word `start` may be left out)",
        description="JupyterLab in this project's environment, here or where compute overrides say (compute=sky)",
        usage="mlws notebook [compute overrides] [options]",
    )
    start.add_argument(
        "overrides", nargs="*", default=[], help="compute overrides, e.g. compute=sky compute.accelerators=T4:1"
    )
    start.add_argument("--name", help="a name for this notebook (default: local, or cloud)")
    start.add_argument("--port", type=port_number, help="1 to 65535 (default 8888)")
    start.add_argument("--host", help="address to bind here (default 127.0.0.1)")
    start.add_argument(
        "--idle-minutes",
        type=float,
        default=60.0,
        help="stop after this long with no kernel running and no terminal in use (0: never)",
    )
    start.add_argument("--detach", action="store_true", help="start in the background")
    start.add_argument("--expose", action="store_true", help="cloud: open the port publicly (token required)")
    start.add_argument("--token-env", metavar="VAR", help="use this environment variable's value as the token")
    start.add_argument("--dry-run", action="store_true", help="cloud: print the task and its price, launch nothing")
    start.add_argument("--json", action="store_true")
    listing = sub.add_parser(
        "list", prog="mlws notebook list", help="the notebooks this workspace started, with their links"
    )
    listing.add_argument("--json", action="store_true")
    status = sub.add_parser("status", prog="mlws notebook status", help="whether a notebook is in use, and why")
    status.add_argument("name", metavar="NAME")
    status.add_argument("--json", action="store_true")
    stop = sub.add_parser(
        "stop", prog="mlws notebook stop", help="stop a notebook (the backend that started it takes it down)"
    )
    stop.add_argument("name", metavar="NAME")


def run(args) -> int:
    from mlws import api

    if args.action != "start":
        return _subcommand(args, args.action)
    result = api.notebook(
        args.overrides,
        name=args.name,
        host=args.host,
        port=args.port,
        idle_minutes=args.idle_minutes,
        detach=args.detach,
        expose=args.expose,
        token_env=args.token_env,
        dry_run=args.dry_run,
        ready=lambda state: _announce(state, show_token=not args.token_env),
    )
    if args.json:
        print_json({k: v for k, v in result.items() if k != "token"})
        return 128 + int(result["signal"]) if result.get("signal") else 0
    if result.get("signal"):  # in the foreground, stopped by SIGTERM: the shell's status (143)
        return 128 + int(result["signal"])
    if result.get("pid"):  # a server on this machine
        if args.detach:
            _announce(result, show_token=not args.token_env)
            print(f"in the background (pid {result['pid']}); stop with: mlws notebook stop {result['name']}")
        return 0
    from .plan_cmd import _yaml

    if args.dry_run:
        print("# task that would run the notebook (nothing launched)")
        print(_yaml(result["task"]), end="")
    for line in result.get("lines") or []:
        print(f"# {line}")
    if not args.dry_run:
        if result.get("tunnel"):
            print(f"tunnel: {result['tunnel']}")
        print(f"notebook {args.name or 'cloud'} on SkyPilot cluster {result['cluster']}: {result['url']}/lab")
    return 0


def _announce(state: dict, show_token: bool = True) -> None:
    """The URL to open. A token the user supplied (--token-env) is not printed: on a cloud VM this
    output is the job's log."""
    print(f"JupyterLab on {state['root']} (this project's Python; notebook {state['name']!r})", flush=True)
    print(
        f"  {state['url']}/lab" + (f"?token={state['token']}" if show_token else "  (token: the one you set)"),
        flush=True,
    )
    idle = state.get("idle_minutes")
    if idle:
        print(
            f"  stops after {idle:g} min with no kernel running and no terminal in use "
            f"(mlws notebook status {state['name']})",
            flush=True,
        )


def _subcommand(args, which: str) -> int:
    from mlws import api

    if which == "list":
        items = api.notebook_list()
        if args.json:
            print_json(items)
        else:
            from .render import aligned

            # a header, and the link last: never padded or cut, so it copies whole
            rows = [(s.get("name", ""), s.get("backend", ""), s.get("link", "")) for s in items]
            for line in aligned(("name", "backend", "link"), rows) if rows else ["no notebooks running"]:
                print(line)
        return 0
    name = args.name
    if which == "status":
        state = api.notebook_status(name)
        if args.json:
            print_json(state)
            return 0
        idle = state["idle"]
        print(f"{state['name']}  {state['backend']}  {state.get('url') or ''}")
        if state.get("tunnel"):
            print(f"  tunnel: {state['tunnel']}")
        why = "; ".join(idle.get("reasons") or [])
        print(
            "  "
            + (
                f"active: {why or 'yes'}"
                if idle.get("active")
                else f"not active: {idle.get('stopped') or why or 'stopping'}"
            )
        )
        return 0
    state = api.notebook_stop(name)
    print(f"stopped notebook {state['name']}" + (f" ({state['url']})" if state.get("url") else ""))
    return 0
