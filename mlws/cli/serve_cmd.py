"""mlws serve RUN [--port P] [--host H] [--insecure] [--detach [--verbose]] [--export FILE] | serve list | serve stop RUN"""

from __future__ import annotations

from .render import print_json


def add_arguments(p) -> None:
    p.add_argument("target", help="a run id, or `list`, or `stop`")
    p.add_argument("overrides", nargs="*", help="with `stop`: the run id; else compute overrides, e.g. compute=sky")
    p.add_argument("--port", type=int)
    p.add_argument("--host", help="address to bind (default 127.0.0.1, from serve.host)")
    p.add_argument(
        "--insecure",
        action="store_true",
        help="serve without a token where other machines can reach it (a non-loopback --host; compute=sky)",
    )
    p.add_argument("--detach", action="store_true", help="serve in the background")
    p.add_argument(
        "--verbose", action="store_true", help="with --detach: show Ray's own lines too (else only in the log)"
    )
    p.add_argument("--export", metavar="FILE", help="write a Ray Serve config (serve run FILE / KubeRay) instead")
    p.add_argument("--dry-run", action="store_true", help="with compute overrides: print the task, launch nothing")
    p.add_argument("--json", action="store_true")


def run(args) -> int:
    from mlws import api
    from mlws.errors import MlwsError

    if args.target == "list":
        servers = api.serve_list()
        if args.json:
            print_json(servers)
        else:
            for s in servers:
                where = s.get("where") or (f"pid {s['pid']}" if s.get("pid") else "?")
                print(f"run {s['run_id']}  {s.get('url') or '-'}  ({where})")
            if not servers:
                print("no servers running")
        return 0
    if args.target == "stop":
        if len(args.overrides) != 1 or not args.overrides[0].isdigit():
            raise MlwsError("usage: mlws serve stop RUN")
        state = api.serve_stop(int(args.overrides[0]))
        print(f"stopped the server for run {state['run_id']} ({state.get('where') or state.get('url')})")
        return 0
    if not args.target.isdigit():
        raise MlwsError(f"expected a run id, `list` or `stop`, got {args.target!r}")
    run_id = int(args.target)
    if args.overrides:
        result = api.serve_remote(run_id, args.overrides, port=args.port, dry_run=args.dry_run, insecure=args.insecure)
        if args.json:
            print_json(result)
            return 0
        from .plan_cmd import _yaml

        if args.dry_run:
            print("# task that would serve run %d (nothing launched)" % run_id)
            print(_yaml(result["task"]), end="")
        for line in result.get("lines") or []:
            print(f"# {line}")
        if not args.dry_run:
            print(f"run {run_id} served on {result['where']}: {result['url']}/ (API: {result['url']}/predict)")
        if result.get("token"):
            print(
                f"token (shown once, kept nowhere): {result['token']}\n"
                f"  send `Authorization: Bearer <token>`; the demo page asks for it once"
            )
        return 0
    if args.export:
        path = api.serve_export(run_id, args.export, host=args.host, port=args.port)
        print(f"wrote {path}: deploy with `serve run {path}` (or as a KubeRay RayService serveConfigV2)")
        return 0
    announce = lambda url: print(f"run {run_id}: API {url}/predict · demo page {url}/ · info {url}/info", flush=True)
    progress = (lambda line: None) if args.json else (lambda line: print(line, flush=True))
    result = api.serve(
        run_id,
        host=args.host,
        port=args.port,
        detach=args.detach,
        insecure=args.insecure,
        verbose=args.verbose,
        ready=announce,
        progress=progress,
    )
    if not args.detach:  # stopped by Ctrl-C or SIGTERM: the shell's exit status for that signal
        return 128 + result["signal"]
    if args.json:
        print_json(result)
    else:
        announce(result["url"])
        print(f"in the background (pid {result['pid']}); stop with: mlws serve stop {run_id}")
    return 0
