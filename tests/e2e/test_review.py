"""Experiments reviewed like code: `mlws check` and `mlws diff --git REF` on real git repositories
made here (the example workspace, committed, then a branch with changes)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import yaml

from ..support.helpers import REPO, mlws

GIT = ["-c", "user.name=t", "-c", "user.email=t@example.com"]


def git(ws: Path, *args: str) -> str:
    return subprocess.run(["git", *GIT, *args], cwd=ws, check=True, capture_output=True, text=True).stdout


def branch(ws: Path) -> None:
    """Tag what make_workspace committed as `base` and start a branch from it."""
    git(ws, "tag", "base")
    git(ws, "checkout", "-qb", "feature")


def commit(ws: Path, message: str = "change") -> None:
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", message)


def diff_json(ws: Path, env: dict, ref: str = "base") -> dict:
    out = mlws("diff", "--git", ref, "--json", cwd=ws, env=env)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def by_name(result: dict) -> dict:
    return {e["experiment"]: e for e in result["experiments"]}


def selects_cnn(ws: Path, name: str) -> bool:
    """Read from the files, not from Hydra: does the experiment's chain choose model/net=cnn?"""
    while name:
        data = yaml.safe_load((ws / "experiments" / f"{name}.yaml").read_text()) or {}
        defaults = data.get("defaults", [])
        if any(isinstance(d, dict) and "cnn" in d.values() for d in defaults):
            return True
        name = next((d for d in defaults if isinstance(d, str) and d != "_self_"), None)
    return False


def test_branch_changing_a_building_block_lists_exactly_the_experiments_that_inherit_it(ws, env):
    branch(ws)
    cnn = ws / "conf/model/net/cnn.yaml"
    cnn.write_text(cnn.read_text().replace("num_classes: 10", "num_classes: 12"))
    commit(ws)
    result = diff_json(ws, env)
    expected = {p.stem for p in (ws / "experiments").glob("*.yaml") if selects_cnn(ws, p.stem)}
    assert expected and len(expected) < len(list((ws / "experiments").glob("*.yaml")))
    assert set(by_name(result)) == expected
    for entry in result["experiments"]:
        assert entry["status"] == "changed"
        assert entry["changed"] == {"model.net.num_classes": [10, 12]}
    assert result["files"] == ["conf/model/net/cnn.yaml"] and result["uncommitted"] == []
    assert result["total"] == 12 and len(result["unchanged"]) == 12 - len(expected)
    assert not (ws / ".mlws" / "registry.db").exists() and not (ws / "runs").exists()  # no registry needed


def test_a_change_every_experiment_overrides_lists_nothing(ws, env):
    """cnn's dropout is set by the first CNN experiment: the block changes, no effective config does."""
    branch(ws)
    cnn = ws / "conf/model/net/cnn.yaml"
    cnn.write_text(cnn.read_text().replace("dropout: 0.0", "dropout: 0.5"))
    commit(ws)
    result = diff_json(ws, env)
    assert result["experiments"] == [] and result["files"] == ["conf/model/net/cnn.yaml"]
    out = mlws("diff", "--git", "base", cwd=ws, env=env)
    assert out.returncode == 0 and "no experiment's effective config differs (12 checked)" in out.stdout


def test_added_deleted_and_renamed_experiments(ws, env):
    branch(ws)
    exp = ws / "experiments"
    (exp / "model_13.yaml").write_text(
        "# @package _global_\ndefaults:\n  - model_12\n  - _self_\ndescription: lower lr\nmodel:\n  lr: 0.001\n"
    )
    git(ws, "rm", "-q", "experiments/model_12.yaml")
    (exp / "model_13.yaml").write_text((exp / "model_13.yaml").read_text().replace("model_12", "model_11"))
    git(ws, "mv", "experiments/model_10.yaml", "experiments/model_10_bn.yaml")
    (exp / "model_11.yaml").write_text((exp / "model_11.yaml").read_text().replace("- model_10\n", "- model_10_bn\n"))
    commit(ws)
    entries = by_name(diff_json(ws, env))
    assert set(entries) == {"model_13", "model_12", "model_10_bn"}
    assert entries["model_12"]["status"] == "deleted"
    assert entries["model_10_bn"]["status"] == "renamed" and entries["model_10_bn"]["renamed_from"] == "model_10"
    assert entries["model_10_bn"]["changed"] == {}  # same effective config under a new name
    added = entries["model_13"]
    assert added["status"] == "added" and added["builds_on"] == "model_11"
    assert added["changed"]["model.lr"] == [0.003, 0.001]
    assert added["changed"]["description"] == ["cosine learning-rate schedule", "lower lr"]
    text = mlws("diff", "--git", "base", cwd=ws, env=env).stdout
    assert "model_10_bn  renamed (from model_10)" in text and "model_12  deleted" in text
    assert "model_13  added (builds on model_11)" in text and "model.lr: 0.003 → 0.001" in text


def test_an_experiment_that_no_longer_composes_is_reported_with_its_error(ws, env):
    branch(ws)
    path = ws / "experiments/model_05.yaml"
    path.write_text(path.read_text().replace("max_epochs: 15", "max_epochs: lots"))
    commit(ws)
    entries = by_name(diff_json(ws, env))
    assert entries["model_05"]["status"] == "broken"
    assert (
        "trainer.max_epochs: expected int, got str 'lots' (set in experiments/model_05.yaml)"
        in entries["model_05"]["error"]
    )
    check = mlws("check", cwd=ws, env=env)
    assert check.returncode == 1
    assert "FAIL  experiments/model_05.yaml: invalid config:" in check.stdout
    assert "ok    experiments/model_01.yaml" in check.stdout and "Traceback" not in check.stderr


def test_untrusted_branch_runs_nothing_and_leaks_no_secret(ws, env, tmp_path):
    """A branch carrying `_target_: os.system`, a hydra_plugins package, a compute backend of its own, a
    secret read from the environment, and ways to make Hydra read a file outside the checkout or
    import a module. The CLI runs with the checkout as the current folder and on PYTHONPATH, so the
    checkout is importable until mlws takes it off the path (Python itself imports from it first
    under `python -m`: the workflow runs the installed `mlws` command)."""
    branch(ws)
    marker = tmp_path / "pwned"
    secret, file_secret = "s3cr3t-value-4242", "FILE-SECRET-7777"
    outside = tmp_path / "home" / ".sky"
    outside.mkdir(parents=True)
    (outside / "config.yaml").write_text(f"api_token: {file_secret}\n")
    plugins = ws / "hydra_plugins" / "evil"
    plugins.mkdir(parents=True)
    (plugins / "__init__.py").write_text(f"open({str(marker)!r}, 'w').write('plugin')\n")
    (plugins / "evil_searchpath.py").write_text(f"open({str(marker)!r}, 'w').write('x')\n")
    (ws / "evilpkg.py").write_text(f"open({str(marker)!r}, 'w').write('backend')\nclass B: pass\n")
    head = "# @package _global_\ndefaults:\n  - model_12\n"
    exp = ws / "experiments"
    (exp / "model_13.yaml").write_text(
        head + "  - _self_\ndescription: 'token ${oc.env:MLWS_TEST_SECRET}'\n"
        f"model:\n  _target_: os.system\n  _args_: ['touch {marker}']\ncompute:\n  _target_: evilpkg.B\n"
    )
    (exp / "model_14.yaml").write_text(head + "  - _self_\ndescription: '${evil_resolver:x}'\n")
    # a file outside, through `..` in a defaults entry, and through a symbolic link
    (exp / "model_15.yaml").write_text(
        head + f"  - /../../../../../../../..{outside}/config@logger.sky\n  - _self_\nlogger:\n  _target_: x.Y\n"
    )  # a swapped _target_: free-form keys
    (exp / "model_16.yaml").symlink_to(outside / "config.yaml")
    # a module imported through a pkg:// config source (the group name hijacks Hydra's settings)
    (ws / "conf" / "hydra.searchpath" / "pkg:").mkdir(parents=True)
    (ws / "conf" / "hydra.searchpath" / "pkg:" / "evilpkg.yaml").write_text("# @package _global_\n{}\n")
    (exp / "model_17.yaml").write_text(head + "  - /hydra.searchpath: [pkg://evilpkg]\n  - _self_\n")
    (exp / "model_18.yaml").write_text(head + "  - _self_\nhydra:\n  job:\n    env_copy: [MLWS_TEST_SECRET]\n")
    commit(ws)
    env = {**env, "MLWS_TEST_SECRET": secret, "PYTHONPATH": str(ws)}
    outputs = [
        mlws("check", cwd=ws, env=env),
        mlws("check", "--json", cwd=ws, env=env),
        mlws("diff", "--git", "base", cwd=ws, env=env),
        mlws("diff", "--git", "base", "--json", cwd=ws, env=env),
        mlws("diff", "--git", "base", "--format", "markdown", cwd=ws, env=env),
    ]
    assert not marker.exists()
    for out in outputs:
        assert secret not in out.stdout + out.stderr and file_secret not in out.stdout + out.stderr
        assert "Traceback" not in out.stderr
    check = outputs[0].stdout
    assert outputs[0].returncode == 1
    assert "ok    experiments/model_13.yaml  (compute: evilpkg.B)" in check
    assert "compute not planned: 'evilpkg.B' is not one of mlws's backends" in check
    assert "FAIL  experiments/model_14.yaml" in check and "unknown interpolation resolver 'evil_resolver'" in check
    assert "FAIL  experiments/model_15.yaml: defaults entry" in check and "reaches outside the config folder" in check
    assert "FAIL  experiments/model_16.yaml: a symbolic link; not read" in check
    assert "FAIL  conf/hydra.searchpath/: not a config group name; not read" in check
    assert "FAIL  experiments/model_17.yaml: defaults entry '/hydra.searchpath' sets Hydra's own settings" in check
    assert "FAIL  experiments/model_18.yaml: hydra.job.env_copy copies environment variables" in check
    assert "ok    experiments/model_12.yaml" in check  # the rest still checks
    entries = by_name(json.loads(outputs[3].stdout))
    assert entries["model_13"]["changed"]["description"][1] == "token <env:MLWS_TEST_SECRET>"
    assert entries["model_13"]["changed"]["model._target_"][1] == "os.system"
    assert entries["model_14"]["status"] == "added" and "evil_resolver" in entries["model_14"]["error"]
    assert "a symbolic link" in entries["model_16"]["error"]
    assert not list(tmp_path.glob("home/.sky/.mlws*")) and not (outside.parent / ".mlws").exists()


def test_a_branch_that_reads_outside_at_the_ref_side_is_refused_too(ws, env, tmp_path):
    """The malicious file is on the base side of the comparison (a reviewer diffing against a fork)."""
    outside = tmp_path / "secret.yaml"
    outside.write_text("api_token: REF-SIDE-SECRET\n")
    (ws / "experiments" / "model_15.yaml").write_text(  # a swapped _target_ makes the keys free-form
        f"# @package _global_\ndefaults:\n  - model_12\n  - /../../../../../../../..{outside.with_suffix('')}"
        "@logger.sky\n  - _self_\nlogger:\n  _target_: x.Y\n"
    )
    commit(ws, "evil base")
    git(ws, "tag", "evil")
    (ws / "experiments" / "model_15.yaml").write_text("# @package _global_\ndefaults:\n  - model_12\n")
    commit(ws, "clean")
    out = mlws("diff", "--git", "evil", "--json", cwd=ws, env=env)
    assert out.returncode == 0, out.stderr
    assert "REF-SIDE-SECRET" not in out.stdout + out.stderr  # composed, it would show as a removed key
    entry = by_name(json.loads(out.stdout))["model_15"]
    assert entry["status"] == "fixed"


GOLDEN_NEW_EXPERIMENT = """# @package _global_
defaults:
  - model_11
  - _self_
description: "eleven changes | one pipe"
seed: 7
model:
  lr: 0.001
  weight_decay: 0.05
  label_smoothing: 0.1
  net:
    hidden: 128
    dropout: 0.4
    batch_norm: false
trainer:
  max_epochs: 30
data:
  batch_size: 128
monitor:
  hardware_interval_s: 5.0
"""


def test_golden_markdown(ws, env):
    """A folded long table, an error, a pipe in a value; the marker first."""
    branch(ws)
    cnn = ws / "conf/model/net/cnn.yaml"
    cnn.write_text(cnn.read_text().replace("channels: [16, 32]", "channels: [8, 16]"))
    path = ws / "experiments/model_07.yaml"
    path.write_text(path.read_text().replace("dropout: 0.2", "dropout: 0.3"))
    path = ws / "experiments/model_12.yaml"
    path.write_text(path.read_text().replace("max_epochs: 25", "max_epochs: many"))
    (ws / "experiments/model_13.yaml").write_text(GOLDEN_NEW_EXPERIMENT)
    commit(ws)
    out = mlws("diff", "--git", "base", "--format", "markdown", cwd=ws, env=env)
    assert out.returncode == 0, out.stderr
    commit_id = git(ws, "rev-parse", "base").strip()[:10]
    text = out.stdout.replace(commit_id, "<commit>")
    golden = REPO / "tests/e2e/golden/diff_git.md"
    if os.environ.get("MLWS_UPDATE_GOLDEN"):  # after a deliberate change of the comment's format
        golden.write_text(text)
    assert text == golden.read_text(), text


def test_bad_input_gets_one_clear_message(ws, env, tmp_path):
    out = mlws("diff", "--git", "no-such-branch", cwd=ws, env=env)
    assert out.returncode == 2 and out.stderr.strip() == (
        "error: git ref 'no-such-branch' does not exist here (try `git fetch`, or a branch, tag or commit)"
    )
    nogit = tmp_path / "nogit"
    (nogit / "conf").mkdir(parents=True)
    (nogit / "conf/config.yaml").write_text("seed: 1\n")
    out = mlws("diff", "--git", "main", cwd=nogit, env=env)
    assert out.returncode == 2 and "is not in a git repository" in out.stderr and "Traceback" not in out.stderr
    # a dirty tree: compared as it is, and said so
    branch(ws)
    (ws / "experiments/model_13.yaml").write_text("model: [\n")
    out = mlws("diff", "--git", "base", cwd=ws, env=env)
    assert out.returncode == 0
    assert (
        "note: comparing base with the working tree, including uncommitted changes to "
        "experiments/model_13.yaml" in out.stderr
    )
    assert "model_13  added\n  error: model_13.yaml is not valid YAML: line 2" in out.stdout
    check = mlws("check", "model_13", cwd=ws, env=env)
    assert (
        check.returncode == 1
        and "FAIL  experiments/model_13.yaml: model_13.yaml is not valid YAML: line 2" in check.stdout
    )
    out = mlws("diff", "1", "--git", "base", cwd=ws, env=env)
    assert out.returncode == 2 and "either two run ids or --git REF" in out.stderr
