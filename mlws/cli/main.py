"""`mlws` entry point: dispatches to one module per command; user errors print without a traceback."""

from __future__ import annotations

import argparse
import importlib
import sys

from .commands import COMMANDS, with_default_subcommand


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlws", description="Experiments as code: Hydra configs, Lightning training, a run registry."
    )
    from mlws import __version__

    parser.add_argument("--version", action="version", version=f"mlws {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, command in COMMANDS.items():
        module = importlib.import_module(f"mlws.cli.{name}_cmd")
        p = sub.add_parser(name, help=command.help, description=command.help)
        module.add_arguments(p)
        p.set_defaults(handler=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    from mlws.errors import MlwsError

    args_in = sys.argv[1:] if argv is None else argv
    if args_in[:1] == ["__complete"]:  # a TAB in the shell: answered without building every parser
        from .complete import main as complete

        return complete(args_in[1:])

    parser = build_parser()
    args, extra = parser.parse_known_args(with_default_subcommand(list(args_in)))
    # Overrides may come after options (`train +experiment=x --label a model.lr=3`).
    if hasattr(args, "overrides") and not any(e.startswith("-") for e in extra):
        args.overrides = [*args.overrides, *extra]
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return args.handler(args) or 0
    except MlwsError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
