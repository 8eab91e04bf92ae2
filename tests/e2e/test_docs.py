"""The docs cannot drift from the code.

(a) Every `mlws ...` command in a shell code block of docs/ and README.md (```sh, ```bash, ```shell,
    and the `$ ` lines of ```console) is parsed by the real CLI parser, the way `mlws` itself parses
    it: an unknown command, flag or choice fails.
(b) A ```console block right after the line `<!-- test: run -->` is run for real on a fresh example
    workspace, and every output line it shows (except `...`) must appear in the real output.
    Options in the marker: `exit=N` (the expected exit code, default 0), `cwd=outside` (run outside
    any workspace). `<workspace>` and `<cwd>` in a shown line stand for those folders.
(c) `mkdocs build --strict` passes (broken links, missing pages or API references fail).
"""

from __future__ import annotations

import io
import os
import re
import shlex
import shutil
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

from mlws.cli.commands import with_default_subcommand
from mlws.cli.main import build_parser

from ..support.helpers import REPO, clean_env, make_workspace, mlws

DOCS = REPO / "docs"
DOC_FILES = sorted(DOCS.rglob("*.md")) + [REPO / "README.md"]
SHELL_LANGS = {"sh", "bash", "shell", "console"}
MARKER = re.compile(r"<!--\s*test:\s*run(?P<opts>[^>]*?)\s*-->")
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>```+|~~~+)\s*(?P<lang>[\w-]*)")


@dataclass
class Block:
    path: Path
    line: int  # 1-based line of the opening fence
    lang: str
    lines: list[str]
    marker: str | None  # the options of a `<!-- test: run ... -->` right before the fence

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"


def code_blocks(path: Path) -> list[Block]:
    blocks, lines = [], path.read_text().splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start, fence = i, m.group("fence")
        previous = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        marker = MARKER.fullmatch(previous.strip())
        body = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            body.append(lines[i])
            i += 1
        blocks.append(
            Block(path, start + 1, m.group("lang").lower(), body, marker.group("opts").strip() if marker else None)
        )
        i += 1
    return blocks


def shell_lines(block: Block) -> list[str]:
    """The command lines of a shell block: every line of ```sh, the `$ ` lines of ```console;
    a line ending in a backslash continues on the next."""
    out, pending = [], ""
    for raw in block.lines:
        if block.lang == "console":
            if not pending and not raw.startswith("$ "):
                continue
            raw = raw[2:] if not pending else raw
        line = pending + raw
        if line.rstrip().endswith("\\"):
            pending = line.rstrip()[:-1] + " "
            continue
        pending = ""
        out.append(line)
    return out


def mlws_commands(line: str) -> list[list[str]]:
    """The argv (after `mlws`) of every mlws command on a shell line: commands separated by `;`, `&&`,
    `|`, and `$(...)` inside a quoted word; `#` starts a comment; `VAR=value` before it is skipped."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|<>()")
    lexer.whitespace_split = True
    tokens = list(lexer)
    found, segment = [], []
    for token in [*tokens, ";"]:
        if token and set(token) <= set(";&|<>()"):
            while segment and re.fullmatch(r"[A-Za-z_]\w*=\S*", segment[0]):  # VAR=value mlws ...
                segment = segment[1:]
            if segment[:1] == ["mlws"]:
                found.append(segment[1:])
            segment = []
            continue
        if "$(" in token:  # eval "$(mlws completion bash)"
            inner = token[token.index("$(") + 2 :]
            found += mlws_commands(inner[: inner.rindex(")")] if ")" in inner else inner)
            continue
        segment.append(token)
    return found


def parse_like_mlws(argv: list[str]) -> str | None:
    """What `mlws ARGV` would make of its arguments (mlws.cli.main.main's own rule): None when
    accepted, else the parser's complaint."""
    parser = build_parser()
    err = io.StringIO()
    try:
        with redirect_stderr(err), redirect_stdout(io.StringIO()):
            args, extra = parser.parse_known_args(with_default_subcommand(argv))
    except SystemExit as e:
        return None if e.code == 0 else (err.getvalue().strip().splitlines() or ["rejected"])[-1]
    if extra and (not hasattr(args, "overrides") or any(e.startswith("-") for e in extra)):
        return f"unrecognized arguments: {' '.join(extra)}"
    if not getattr(args, "command", None):
        return "no command"
    return None


BLOCKS = [b for path in DOC_FILES for b in code_blocks(path)]
COMMANDS = [
    (f"{b.where}: mlws {shlex.join(argv)}", argv)
    for b in BLOCKS
    if b.lang in SHELL_LANGS
    for line in shell_lines(b)
    for argv in mlws_commands(line)
]
RUN_BLOCKS = [b for b in BLOCKS if b.marker is not None]


def test_the_docs_show_many_commands_and_run_some():
    # if the extraction broke (a renamed folder, a new fence style), these counts drop
    assert len(COMMANDS) >= 80, len(COMMANDS)
    assert len(RUN_BLOCKS) >= 6, [b.where for b in RUN_BLOCKS]
    assert {p.name for p in DOC_FILES} >= {"getting-started.md", "troubleshooting.md", "README.md"}


@pytest.mark.parametrize("where,argv", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_every_command_in_the_docs_is_one_this_cli_accepts(where, argv):
    problem = parse_like_mlws(argv)
    assert problem is None, f"{where}: {problem}"


@pytest.mark.parametrize(
    "argv",
    [
        ["trian", "+experiment=model_12"],
        ["runs", "--colour"],
        ["show", "one"],
        ["diff", "--format", "html", "1", "2"],
        ["label"],
    ],
)
def test_the_check_itself_rejects_what_mlws_rejects(argv):
    assert parse_like_mlws(argv) is not None


def test_commands_are_found_where_a_shell_would_run_them():
    assert mlws_commands("mlws runs; mlws show 1 --json  # a comment; mlws nope") == [["runs"], ["show", "1", "--json"]]
    assert mlws_commands('eval "$(mlws completion bash)"') == [["completion", "bash"]]
    assert mlws_commands("cd x && mlws plan +experiment=a -o plan/ > out.txt") == [
        ["plan", "+experiment=a", "-o", "plan/"]
    ]
    assert mlws_commands("PYTHONPATH=. WANDB_MODE=offline mlws runs") == [["runs"]]
    assert parse_like_mlws(["train", "+experiment=model_12", "--label", "a", "model.lr=3"]) is None


def test_every_run_marker_sits_on_a_console_block_of_commands():
    for b in RUN_BLOCKS:
        assert b.lang == "console", f"{b.where}: `<!-- test: run -->` must precede a ```console block"
        assert any(line.startswith("$ mlws ") for line in b.lines), f"{b.where}: no `$ mlws` line"
        assert set(re.findall(r"(\w+)=", b.marker)) <= {"exit", "cwd"}, f"{b.where}: options {b.marker!r}"


def console_steps(block: Block) -> list[tuple[str, list[str]]]:
    """(command, the output lines shown after it) for each `$ ` line."""
    steps: list[tuple[str, list[str]]] = []
    for line in block.lines:
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps:
            steps[-1][1].append(line)
    return steps


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("docs")
    ws = make_workspace(tmp / "ws")
    outside = tmp / "outside"
    outside.mkdir()
    return ws, outside, clean_env(tmp)


@pytest.mark.parametrize("block", RUN_BLOCKS, ids=[b.where for b in RUN_BLOCKS])
def test_the_docs_examples_print_what_the_docs_show(block, example):
    ws, outside, env = example
    opts = dict(re.findall(r"(\w+)=(\S+)", block.marker))
    cwd = outside if opts.get("cwd") == "outside" else ws
    for command, shown in console_steps(block):
        argv = shlex.split(command)
        assert argv[0] == "mlws", f"{block.where}: only mlws commands are run ({command!r})"
        out = mlws(*argv[1:], cwd=cwd, env=env, timeout=180)
        text = (out.stdout + out.stderr).replace(str(ws), "<workspace>").replace(str(outside), "<cwd>")
        assert out.returncode == int(opts.get("exit", 0)), (
            f"{block.where}: `{command}` exited {out.returncode}:\n{text}"
        )
        real = {line.rstrip() for line in text.splitlines()}
        missing = [line for line in shown if line.strip() not in ("", "...", "…") and line.rstrip() not in real]
        assert not missing, f"{block.where}: `{command}` no longer prints {missing}; it printed:\n{text}"


def mkdocs_command() -> list[str] | None:
    beside = Path(sys.executable).parent / "mkdocs"
    found = str(beside) if beside.exists() else shutil.which("mkdocs")
    return [found] if found else None


def test_the_site_builds_strictly(tmp_path):
    cmd = mkdocs_command()
    if cmd is None:
        pytest.skip("mkdocs is not installed here (pip install -e '.[docs]'; `make docs` and CI install it)")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    out = subprocess.run(
        [*cmd, "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-5000:]
    assert (tmp_path / "site" / "api" / "index.html").is_file()


def test_every_test_file_the_docs_name_exists():
    """ "Tested by tests/x.py" is a claim: the file must be there."""
    named = {
        (p, m) for p in [*DOC_FILES, REPO / "CONTRIBUTING.md"] for m in re.findall(r"`(tests/[\w/.-]+)`", p.read_text())
    }
    assert len(named) >= 10
    assert not [f"{p.relative_to(REPO)}: {m}" for p, m in named if not (REPO / m).exists()]


def test_the_readme_is_short_and_links_to_pages_that_exist():
    text = (REPO / "README.md").read_text()
    assert len(text.splitlines()) <= 200
    links = re.findall(r"\]\((docs/[^)#\s]+)", text)
    assert links, "the README links to the docs"
    assert not [link for link in links if not (REPO / link).is_file()]
    # benchmarks and suite timings live in docs/benchmarks.md, not in the README
    assert not re.search(r"\d+ min \d+ s|steps/s|req/s|median of", text)
