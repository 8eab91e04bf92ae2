"""The GitHub Actions workflows: triggers and permissions that are safe for pull requests from
forks, and mlws commands that this version of the CLI accepts (they are run for real in
tests/e2e/test_review.py)."""

import re
import shlex
from pathlib import Path

import pytest
import yaml

from mlws.cli.main import build_parser

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"


def load(name: str) -> dict:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def steps(workflow: dict) -> list[dict]:
    return [s for job in workflow["jobs"].values() for s in job["steps"]]


def test_review_runs_on_pull_requests_read_only_without_secrets():
    wf = load("review.yml")
    assert set(wf["on"]) == {"pull_request"}
    assert wf["permissions"] == {"contents": "read"}
    assert all("permissions" not in job for job in wf["jobs"].values())
    text = (WORKFLOWS / "review.yml").read_text()
    assert "secrets." not in text and "pull_request_target" not in text
    checkouts = [s for s in steps(wf) if str(s.get("uses", "")).startswith("actions/checkout")]
    assert checkouts and all(s["with"]["persist-credentials"] is False for s in checkouts)
    # mlws comes from the base branch, never from the pull request's own checkout
    installs = [s["run"] for s in steps(wf) if "pip install" in s.get("run", "")]
    assert installs and all("./base" in cmd and "./branch" not in cmd for cmd in installs)
    # torch from PyTorch's index alone: --extra-index-url lets a same-named package elsewhere win
    assert all("--extra-index-url" not in cmd for cmd in installs)
    assert any("--index-url https://download.pytorch.org/whl/cpu torch==" in cmd for cmd in installs)
    assert wf["concurrency"]["cancel-in-progress"] is True
    # no expression is pasted into a shell line (script injection); values go through env
    assert all("${{" not in s.get("run", "") for s in steps(wf))
    assert any(s.get("uses", "").startswith("actions/upload-artifact") for s in steps(wf))


def test_comment_workflow_never_checks_out_or_runs_the_branch():
    wf = load("review-comment.yml")
    assert set(wf["on"]) == {"workflow_run"}
    assert wf["on"]["workflow_run"]["workflows"] == [load("review.yml")["name"]]
    assert wf["on"]["workflow_run"]["types"] == ["completed"]
    assert wf["permissions"] == {"actions": "read", "contents": "read", "pull-requests": "write"}
    # the only checkout is the default branch's (no ref: never the pull request's head), without a token
    (checkout,) = [s for s in steps(wf) if str(s.get("uses", "")).startswith("actions/checkout")]
    assert "ref" not in checkout["with"] and checkout["with"]["persist-credentials"] is False
    # the comment is rendered here, from the artifact's data, by that checkout's mlws
    (render,) = [s["run"] for s in steps(wf) if "run" in s]
    assert render == "python3 -P -m mlws.review.comment review/diff.json > comment.md"
    script = next(s["with"]["script"] for s in steps(wf) if "github-script" in s.get("uses", ""))
    from mlws.review.markdown import MARKER

    assert f"'{MARKER}'" in script and "updateComment" in script and "head_sha" in script
    assert "readFileSync('comment.md'" in script and "review/comment.md" not in script


@pytest.mark.parametrize("name", ["review.yml", "review-comment.yml", "sweep.yml"])
def test_every_action_is_pinned_by_commit(name):
    uses = [s["uses"] for s in steps(load(name)) if "uses" in s]
    assert uses and all(re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", u) for u in uses), uses


def mlws_commands() -> list[list[str]]:
    found = []
    for s in steps(load("review.yml")):
        for line in s.get("run", "").splitlines():
            line = line.split(">")[0]
            if re.match(r"\s*mlws\s", line):
                found.append(shlex.split(line)[1:])
    return found


@pytest.mark.parametrize("argv", mlws_commands(), ids=lambda a: " ".join(a))
def test_the_workflow_calls_commands_this_cli_accepts(argv):
    argv = [a.replace("$BASE_SHA", "abc123") for a in argv]
    args = build_parser().parse_args(argv)
    assert args.command in ("check", "diff")
    assert args.command != "diff" or (args.git == "abc123" and args.json)


def test_both_review_commands_are_called():
    assert sorted(c[0] for c in mlws_commands()) == ["check", "diff"]


def test_sweep_runs_only_on_the_label_or_by_hand_read_only():
    wf = load("sweep.yml")
    assert set(wf["on"]) == {"pull_request", "workflow_dispatch"}
    assert wf["on"]["pull_request"]["types"] == ["labeled"]
    assert wf["permissions"] == {"contents": "read"}
    (job,) = wf["jobs"].values()
    assert job["if"] == "github.event_name == 'workflow_dispatch' || github.event.label.name == 'sweep'"
    text = (WORKFLOWS / "sweep.yml").read_text()
    assert "secrets." not in text and "pull_request_target" not in text
    assert all("${{" not in s.get("run", "") for s in job["steps"])  # inputs reach the shell through env
    assert all(
        s["with"]["persist-credentials"] is False
        for s in job["steps"]
        if str(s.get("uses", "")).startswith("actions/checkout")
    )


def test_the_sweep_workflow_calls_commands_this_cli_accepts():
    lines = [
        line.split("|")[0]
        for s in load("sweep.yml")["jobs"]["sweep"]["steps"]
        for line in s.get("run", "").splitlines()
        if re.match(r"\s*mlws\s", line)
    ]
    parsed = [
        build_parser().parse_args(shlex.split(line)[1:])
        for line in (
            l.replace('"${overrides[@]}"', "+experiment=model_12 model.lr=1e-3,3e-4").replace('"$PARALLEL"', "2")
            for l in lines
        )
    ]
    train, show = parsed
    assert train.command == "train" and train.multirun and train.parallel == 2
    assert show.command == "sweep" and show.sweep_id == 1 and show.format == "markdown"
