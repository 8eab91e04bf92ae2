"""mlws notebook [compute overrides] [--detach] | notebook list | notebook status NAME | notebook stop NAME"""

from __future__ import annotations

from .render import print_json

SUBCOMMANDS = ("list", "status", "stop")


def add_arguments(p) -> None:
    p.add_argument("args", nargs="*", help="`list`, `status NAME`, `stop NAME`, or compute overrides (compute=sky ...)")
    p.add_argument("--name", help="a name for this notebook (default: local, or cloud)")
    p.add_argument("--port", type=int, help="default 8888")
    p.add_argument("--host", help="address to bind here (default 127.0.0.1)")
    p.add_argument(
        "--idle-minutes",
        type=float,
        default=60.0,
        help="stop after this long with no kernel running and no terminal in use (0: never)",
    )
    p.add_argument("--detach", action="store_true", help="start in the background")
    p.add_argument("--expose", action="store_true", help="cloud: open the port publicly (token required)")
    p.add_argument("--token-env", metavar="VAR", help="use this environment variable's value as the token")
    p.add_argument("--dry-run", action="store_true", help="cloud: print the task and its price, launch nothing")
    p.add_argument("--json", action="store_true")


def run(args) -> int:
    from mlws import api

    first = args.args[0] if args.args else None
    if first in SUBCOMMANDS:
        return _subcommand(args, first)
    result = api.notebook(
        args.args,
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
        return 0
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
    from mlws.errors import MlwsError

    if which == "list":
        items = api.notebook_list()
        if args.json:
            print_json(items)
        else:
            from .render import aligned

            # a header, and the link last: never padded or cut, so it copies whole
            rows = [(s["name"], s["backend"], s["link"]) for s in items]
            for line in aligned(("name", "backend", "link"), rows) if rows else ["no notebooks running"]:
                print(line)
        return 0
    if len(args.args) != 2:
        raise MlwsError(f"usage: mlws notebook {which} NAME")
    name = args.args[1]
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
