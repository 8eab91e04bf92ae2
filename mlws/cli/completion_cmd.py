"""mlws completion bash|zsh: a completion script, e.g. eval "$(mlws completion bash)" in ~/.bashrc"""

from __future__ import annotations


def add_arguments(p) -> None:
    p.add_argument("shell", choices=["bash", "zsh"])


def run(args) -> int:
    from .complete import script

    print(script(args.shell), end="")
    return 0
