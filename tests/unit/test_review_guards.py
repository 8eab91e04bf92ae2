"""The review's guards as pure functions, and the path confinement under Hydra itself."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mlws.review.confine import climbs, inside
from mlws.review.inert import md_block, md_span, shown
from mlws.review.sandbox import unsafe_reason
from mlws.review.yaml_bounds import yaml_bound_problem

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "entry, reason",
    [
        ("model_12", None),
        ({"override /model/net": "cnn"}, None),
        ({"override /hydra/sweeper": "optuna"}, None),  # an installed sweeper stays allowed
        ({"override /data": "${now:.}${now:.}/x"}, "uses an interpolation"),
        ("${oc.env:HOME}", "uses an interpolation"),
        ("/../../etc/x@logger.sky", "reaches outside"),
        ({"override /hydra/env": "leak"}, "sets Hydra's own settings"),
        ({"/hydra/job_logging": "x"}, "sets Hydra's own settings"),
        ({"/model@hydra.job": "leak"}, "sets Hydra's own settings"),
        ({"/model@_global_.hydra": "leak"}, "sets Hydra's own settings"),
        ("/hydra.searchpath", "sets Hydra's own settings"),
    ],
)
def test_defaults_entries(entry, reason):
    found = unsafe_reason({"defaults": [entry, "_self_"]})
    assert (found is None) if reason is None else (reason in found), found


@pytest.mark.parametrize(
    "hydra, reason",
    [
        ({"sweeper": {"params": {"model.lr": "interval(1e-4,1e-2)"}}}, None),
        ({"searchpath": ["pkg://x"]}, "adds config sources"),
        ({"job": {"env_copy": ["HOME"]}}, "copies environment variables"),
        ({"callbacks": {"x": {"_target_": "os.system"}}}, "instantiates classes"),
        ("${oc.env:HOME}", "must be a mapping"),
    ],
)
def test_hydra_keys(hydra, reason):
    found = unsafe_reason({"hydra": hydra})
    assert (found is None) if reason is None else (reason in found), found


def test_yaml_bounds():
    bomb = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcdef", "bcdefg")
    )
    assert "expands to over" in yaml_bound_problem(bomb)
    assert "nests deeper than 64" in yaml_bound_problem("x: " + "[" * 20_000)
    assert "recursive YAML alias" in yaml_bound_problem("a: &x [1, *x]")
    assert yaml_bound_problem((REPO / "experiments/model_12.yaml").read_text()) is None
    assert yaml_bound_problem("a: [1, 2") is None  # a syntax error is left to the composer, which names the line


def test_inert_strings():
    assert shown("a\x1b[2Jb\nc\u202e") == "a\\x1b[2Jb\\nc\\u202e"
    span = md_span("x`y|z\n# h @octocat <img>")
    assert span.count("`") == 2 and "\n" not in span and "\\|" in span
    assert "@octocat" not in span and "<img" not in span
    block = md_block("line 1\n```\n# heading")
    assert block.count("```") == 2 and "\n# heading" in block  # inside the fence: text, not a heading


def test_path_rules():
    root = Path("/tmp/review-copy")
    assert inside(root / "conf" / "model.yaml", [root])
    assert not inside(root / ".." / "secret.yaml", [root])
    assert climbs("../../etc/x") and climbs("/etc/x") and climbs("a/../../x") and not climbs("model/net/cnn")


CONFINED = textwrap.dedent("""
    import sys
    from pathlib import Path
    from mlws.config import compose
    from mlws.errors import MlwsError
    from mlws.workspace import Workspace
    root, confined = Path(sys.argv[1]), sys.argv[2] == "1"
    if confined:
        from mlws.review.confine import confine
        confine(root)
    try:
        print(compose(Workspace(root), ["+experiment=reach"]).config["logger"])
    except MlwsError as e:
        print("refused:", e)
""")


@pytest.mark.parametrize("confined", [False, True])
def test_hydra_cannot_open_a_file_outside_the_copy(tmp_path, confined):
    """Beneath the text rules: an entry that reaches outside (written here past the sandbox's
    checks) is opened by Hydra without the guard, and refused with it."""
    import shutil

    root = tmp_path / "ws"
    shutil.copytree(REPO / "conf", root / "conf")
    shutil.copytree(REPO / "experiments", root / "experiments")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text("api_token: CONFINE-SECRET\n")
    (root / "experiments" / "reach.yaml").write_text(
        "# @package _global_\ndefaults:\n  - model_12\n"
        f"  - /{'../' * 12}{str(outside).lstrip('/')}/secret@logger.sky\n  - _self_\nlogger:\n  _target_: x.Y\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", CONFINED, str(root), "1" if confined else "0"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    if confined:
        assert "refused:" in done.stdout and "resolves outside the reviewed configs" in done.stdout
        assert "CONFINE-SECRET" not in done.stdout
    else:
        assert "CONFINE-SECRET" in done.stdout  # what the guard stops


def test_the_comment_stays_under_githubs_limit_however_many_notes_and_names():
    """300 refused files once made an 89,255-character comment, which GitHub (and the comment job)
    refuse: notes are capped, names shortened, and length counted as JavaScript counts it."""
    from mlws.review.markdown import LIMIT, _units, render

    name = "conf/" + "\x1b" * 200 + "😀" * 100 + ".yaml"
    entry = {
        "experiment": "e" * 300,
        "status": "added",
        "renamed_from": None,
        "builds_on": None,
        "error": "x" * 5000,
        "changed": {f"k{i}": [i, i + 1] for i in range(50)},
        "added": {},
        "removed": {},
    }
    result = {
        "ref": "base",
        "commit": "0123456789abcdef",
        "compared_with": "working tree",
        "uncommitted": [],
        "files": [name] * 2000,
        "notes": [f"working tree: {name}: a symbolic link; not read"] * 2000,
        "experiments": [entry] * 300,
        "unchanged": [],
        "total": 300,
    }
    text = render(result)
    assert _units(text) <= LIMIT and text.startswith("<!-- mlws-diff -->")
    assert "and 1980 more notes" in text and "more\n" in text
