"""Shell completion through a real bash: the script `mlws completion bash` prints, loaded with
eval, answering partial command lines in a workspace (commands, options, experiments, groups and
their options, packaged ones included, config keys, run ids from the registry)."""
import shlex
import subprocess
import sys

from .helpers import mlws, use_record_only_backend


def complete(ws, env, line: str) -> list[str]:
    """COMPREPLY for `line` (the cursor at its end) after eval "$(mlws completion bash)"."""
    words = shlex.split(line) + ([""] if line.endswith(" ") else [])
    shim = f'mlws() {{ {shlex.quote(sys.executable)} -m mlws.cli.main "$@"; }}'
    script = (f"{shim}\neval \"$(mlws completion bash)\"\n"
              f"COMP_WORDS=({' '.join(shlex.quote(w) for w in words)}); COMP_CWORD={len(words) - 1}\n"
              "_mlws_complete; printf '%s\\n' \"${COMPREPLY[@]}\"")
    out = subprocess.run(["bash", "-c", script], cwd=ws, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return [c for c in out.stdout.splitlines() if c]


def test_bash_completes_commands_options_experiments_groups_keys_and_runs(ws, env):
    assert complete(ws, env, "mlws tr") == ["train"]
    assert complete(ws, env, "mlws sw") == ["sweeps", "sweep"]
    assert complete(ws, env, "mlws train +experiment=model_1") == [
        "+experiment=model_10", "+experiment=model_11", "+experiment=model_12"]
    assert complete(ws, env, "mlws train compute=") == ["compute=local", "compute=ray", "compute=sky"]  # packaged
    (ws / "conf" / "compute").mkdir(exist_ok=True)
    (ws / "conf" / "compute" / "slurm.yaml").write_text("_target_: acme.Slurm\n")
    assert "compute=slurm" in complete(ws, env, "mlws plan compute=")  # the workspace's own, beside them
    assert complete(ws, env, "mlws train trainer.max_") == ["trainer.max_epochs="]
    assert "model.lr=" in complete(ws, env, "mlws train +experiment=model_12 model.l")
    assert "--parallel" in complete(ws, env, "mlws train --p")
    assert complete(ws, env, "mlws completion ") == ["bash", "zsh"]

    on = use_record_only_backend(ws)
    for _ in range(2):
        assert mlws("train", "+experiment=model_01", *on, cwd=ws, env=env).returncode == 0
    assert complete(ws, env, "mlws show ") == ["2", "1"]
    assert complete(ws, env, "mlws cp ") == ["2:", "1:"]


def test_zsh_script_and_outside_a_workspace(tmp_path, env):
    zsh = mlws("completion", "zsh", cwd=tmp_path, env=env)
    assert zsh.returncode == 0 and zsh.stdout.startswith("#compdef mlws") and "compdef _mlws mlws" in zsh.stdout
    out = mlws("__complete", "2", "mlws", "train", "model.", cwd=tmp_path, env=env)  # no workspace here
    assert out.returncode == 0 and out.stdout == ""
