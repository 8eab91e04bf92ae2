"""Attacks on `mlws check` and `mlws diff --git`, played through the real CLI on a real git branch.

Every attack in tests/review_attacks/ is laid on one branch of the example workspace (they use
distinct files), then the branch is reviewed as CI reviews a pull request: check (text and JSON),
diff --git (text, JSON, markdown), and the trusted job's comment rendered from the JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ..support.helpers import REPO, mlws

CORPUS = Path(__file__).parent / "review_attacks"
SECRET = "OUTSIDE-SECRET-9931"
ENV_SECRET = "ENV-SECRET-5150"
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]


def attacks() -> list[dict]:
    return [{"name": p.stem, **yaml.safe_load(p.read_text())} for p in sorted(CORPUS.glob("*.yaml"))]


def lay(ws: Path, attack: dict, outside: Path) -> None:
    for f in attack["files"]:
        path = ws / f["path"].replace("{outside}", str(outside).lstrip("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        if "symlink" in f:
            path.symlink_to(f["symlink"])
            continue
        text = f["text"].replace("{dots}", "${now:.}${now:.}/" * 16).replace("{outside}", str(outside).lstrip("/"))
        for token, n in (f.get("repeat") or {}).items():
            text = text.replace("{" + token + "}", token * n)
        path.write_text(text)


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory):
    """The branch with every attack, and what each review command printed."""
    from ..support.helpers import clean_env, make_workspace

    tmp = tmp_path_factory.mktemp("attacks")
    ws = make_workspace(tmp / "ws")
    outside = tmp / "home" / "runner"
    outside.mkdir(parents=True)
    (outside / "secret.yaml").write_text(f"api_token: {SECRET}\n")
    git = lambda *a: subprocess.run([*GIT, *a], cwd=ws, check=True, capture_output=True)
    git("tag", "base")
    git("checkout", "-qb", "attack")
    for attack in attacks():
        lay(ws, attack, outside)
    git("add", "-A")
    git("commit", "-qm", "attacks")
    env = {**clean_env(tmp), "MLWS_TEST_SECRET": ENV_SECRET}
    out = {
        "check": mlws("check", cwd=ws, env=env, timeout=600),
        "check_json": mlws("check", "--json", cwd=ws, env=env, timeout=600),
        "diff": mlws("diff", "--git", "base", cwd=ws, env=env, timeout=600),
        "diff_json": mlws("diff", "--git", "base", "--json", cwd=ws, env=env, timeout=600),
    }
    artifact = tmp / "diff.json"
    artifact.write_text(out["diff_json"].stdout)
    # the same review on a runner without the secret file: a branch must not tell the two apart
    (outside / "secret.yaml").unlink()
    out["diff_json_without_the_file"] = mlws("diff", "--git", "base", "--json", cwd=ws, env=env, timeout=600)
    # as review-comment.yml renders it: standard library only (-S: no site-packages), nothing installed
    out["comment"] = subprocess.run(
        [sys.executable, "-S", "-P", "-m", "mlws.review.comment", str(artifact)],
        env={"PYTHONPATH": str(REPO), "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return {"ws": ws, "out": out, "tmp": tmp, "checked": {r["file"]: r for r in json.loads(out["check_json"].stdout)}}


def test_every_review_command_finishes_without_a_traceback_or_a_secret(reviewed):
    for name, done in reviewed["out"].items():
        text = done.stdout + done.stderr
        assert "Traceback" not in text, (name, done.stderr[-2000:])
        assert SECRET not in text and ENV_SECRET not in text, name
        assert "\x1b" not in text, name  # an escape from a file name is shown, never sent to the terminal
    assert reviewed["out"]["check"].returncode == 1  # the attacks fail...
    assert reviewed["checked"]["experiments/model_12.yaml"]["ok"]  # ...and the rest is still reviewed
    assert reviewed["out"]["diff_json"].returncode == 0 and reviewed["out"]["comment"].returncode == 0


@pytest.mark.parametrize("attack", attacks(), ids=lambda a: a["name"])
def test_each_attack_is_refused_with_its_reason(reviewed, attack):
    for expect in attack.get("expect", []):
        entry = reviewed["checked"].get(expect["file"])
        assert entry is not None, (expect["file"], sorted(reviewed["checked"]))
        if expect.get("ok"):
            assert entry["ok"], entry
            assert "note" not in expect or expect["note"] in entry["notes"], entry
            continue
        assert not entry["ok"]
        for part in ("error", "reason"):
            if part in expect:
                assert expect[part] in entry["error"], entry["error"]


def test_the_review_does_not_depend_on_the_runners_files(reviewed):
    with_file = json.loads(reviewed["out"]["diff_json"].stdout)
    without = json.loads(reviewed["out"]["diff_json_without_the_file"].stdout)
    assert with_file["experiments"] == without["experiments"]
    assert len(reviewed["out"]["diff_json"].stdout) < 5_000_000  # no config resolves to megabytes


def test_nothing_from_a_branch_becomes_markup_in_the_comment(reviewed):
    from mlws.review.markdown import render

    comment = reviewed["out"]["comment"].stdout
    markdown = render(json.loads(reviewed["out"]["diff_json"].stdout))  # what `--format markdown` prints
    assert comment == markdown  # the trusted job renders exactly what mlws would
    tokens = [t for a in attacks() for t in a.get("markup", [])]
    assert tokens
    for token in tokens:
        assert token not in markdown, token
    headings = [line for line in markdown.splitlines() if line.startswith("#")]
    assert all(line.startswith(("### mlws: effective configs", "#### `")) for line in headings), headings
    assert "atk_md" in markdown and "Injected heading" in markdown  # shown, as text


def test_the_terminal_shows_escapes_instead_of_acting_on_them(reviewed):
    check = reviewed["out"]["check"].stdout
    assert "atk_ansi\\x1b[2J\\x1b[H ALL CHECKS PASSED.yaml" in check
    assert "x\\n## Note heading @octocat.yaml: a symbolic link; not read" in check


def test_a_forged_artifact_is_refused_by_the_comment_job(tmp_path):
    """The untrusted job can upload anything: wrong shapes get one line and exit 2, nothing posted."""
    good = {
        "ref": "base",
        "commit": "0123456789abcdef",
        "compared_with": "working tree",
        "uncommitted": [],
        "files": [],
        "notes": [],
        "experiments": [],
        "unchanged": [],
        "total": 0,
    }
    forged = {
        "markdown instead of data": "<!-- mlws-diff -->\n# Approved @org/admins",
        "an unexpected field": {**good, "body": "<!-- mlws-diff -->"},
        "a status of its own": {
            **good,
            "experiments": [
                {
                    "experiment": "x",
                    "status": "<b>ok</b>",
                    "renamed_from": None,
                    "builds_on": None,
                    "error": None,
                    "changed": {},
                    "added": {},
                    "removed": {},
                }
            ],
        },
        "a commit that is text": {**good, "commit": "`@octocat`"},
        "a nesting bomb": "[" * 100_000,
    }
    for what, data in forged.items():
        path = tmp_path / "diff.json"
        path.write_text(data if isinstance(data, str) else json.dumps(data))
        done = subprocess.run(
            [sys.executable, "-P", "-m", "mlws.review.comment", str(path)],
            env={"PYTHONPATH": str(REPO), "PATH": os.environ["PATH"]},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2 and done.stdout == "", what
        assert done.stderr.startswith("error: diff.json is not an mlws diff result:"), (what, done.stderr)
        assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1, what


def test_check_warns_when_the_reviewed_checkout_is_its_own_code(ws, env):
    """An editable install in the repository under review runs the branch's own mlws/ after
    `git checkout <pr>`: said on stderr. From an installed mlws (the workspace here) nothing is said."""
    own = mlws("check", "model_01", cwd=REPO, env=env)
    assert own.returncode == 0 and "imported from inside the checkout it reviews" in own.stderr
    other = mlws("check", "model_01", cwd=ws, env=env)
    assert other.returncode == 0 and "warning" not in other.stderr


def test_checking_from_python_leaves_the_calling_process_as_it_was(tmp_path):
    """mlws.check() from a notebook or a test session composes in forked workers: the hardening
    (import path, Hydra's environment, warnings), the confinement and the memory cap stay there. In
    the calling process they once broke every later composition and capped its children's memory."""
    script = tmp_path / "probe.py"
    script.write_text(
        "import json, resource, sys, warnings\n"
        "from pathlib import Path\n"
        f"sys.path.insert(0, {str(REPO)!r})\n"
        "from tests.support.helpers import make_workspace\n"
        "ws = make_workspace(Path(sys.argv[1]))\n"
        "state = lambda: (list(sys.path), resource.getrlimit(resource.RLIMIT_AS), warnings.showwarning)\n"
        "before = state()\n"
        "import mlws\n"
        "results = mlws.check(workspace=ws)\n"
        "import hydra._internal.config_loader_impl as loader\n"
        "print(json.dumps({'ok': sum(r['ok'] for r in results), 'same': before == state(),\n"
        "                  'env': type(loader.os).__name__}))\n"
    )
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "ws")], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"ok": 12, "same": True, "env": "module"}
