"""Shell completion through a real bash: the script `mlws completion bash` prints, loaded with
eval, answering partial command lines in a workspace (commands, options, experiments, groups and
their options, packaged ones included, config keys, run ids from the registry), and a TAB typed
into an interactive bash in tmux (where bash itself splits words at `=` and `:`)."""

import shlex
import subprocess
import sys
import uuid

import pytest

from ..support.helpers import mlws, use_record_only_backend, wait_for

pytestmark = [pytest.mark.tmux]


def complete(ws, env, line: str) -> list[str]:
    """COMPREPLY for `line` with the cursor at its end, after eval "$(mlws completion bash)"; bash's
    COMP_LINE/COMP_POINT are set as bash sets them (COMP_WORDS is not what the script reads)."""
    shim = f'mlws() {{ {shlex.quote(sys.executable)} -m mlws.cli.main "$@"; }}'
    script = (
        f'{shim}\neval "$(mlws completion bash)"\n'
        f"COMP_LINE={shlex.quote(line)}; COMP_POINT={len(line)}\n"
        "_mlws_complete; printf '%s\\n' \"${COMPREPLY[@]}\""
    )
    out = subprocess.run(["bash", "-c", script], cwd=ws, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return [c for c in out.stdout.splitlines() if c]


def test_bash_completes_commands_options_experiments_groups_keys_and_runs(ws, env):
    assert complete(ws, env, "mlws tr") == ["train"]
    assert complete(ws, env, "mlws sw") == ["sweeps", "sweep"]
    # after `=` bash replaces only what follows it
    assert complete(ws, env, "mlws train +experiment=model_1") == ["model_10", "model_11", "model_12"]
    assert complete(ws, env, "mlws train compute=") == ["local", "ray", "sky"]  # mlws's packaged blocks
    (ws / "conf" / "compute").mkdir(exist_ok=True)
    (ws / "conf" / "compute" / "slurm.yaml").write_text("_target_: acme.Slurm\n")
    assert "slurm" in complete(ws, env, "mlws plan compute=")  # the workspace's own, beside them
    assert complete(ws, env, "mlws train trainer.max_") == ["trainer.max_epochs="]
    assert "model.lr=" in complete(ws, env, "mlws train +experiment=model_12 model.l")
    assert "--parallel" in complete(ws, env, "mlws train --p")
    assert complete(ws, env, "mlws completion ") == ["bash", "zsh"]

    on = use_record_only_backend(ws)
    for _ in range(2):
        assert mlws("train", "+experiment=model_01", *on, cwd=ws, env=env).returncode == 0
    assert complete(ws, env, "mlws show ") == ["2", "1"]
    assert complete(ws, env, "mlws cp ") == ["2:", "1:"]
    # serve and notebook: their subcommands, then what each takes, and each one's own options
    assert complete(ws, env, "mlws serve ") == ["list", "stop", "2", "1"]
    assert complete(ws, env, "mlws serve stop ") == ["2", "1"] and complete(ws, env, "mlws serve list ") == []
    assert complete(ws, env, "mlws serve list --") == ["--help", "--json"]
    assert {"--detach", "--dry-run"} <= set(complete(ws, env, "mlws serve 2 --d"))
    assert [c for c in complete(ws, env, "mlws notebook s") if "=" not in c] == ["status", "stop"]
    assert "compute=" in complete(ws, env, "mlws notebook ")
    assert complete(ws, env, "mlws notebook --idle") == ["--idle-minutes"]
    (ws / ".mlws" / "notebooks" / "lab").mkdir(parents=True)
    (ws / ".mlws" / "notebooks" / "lab" / "state.json").write_text("{}")
    assert complete(ws, env, "mlws notebook stop ") == complete(ws, env, "mlws notebook status l") == ["lab"]
    assert complete(ws, env, "mlws nosuch --x") == [] and complete(ws, env, "mlws train 'unclosed") == []


def test_a_tab_in_an_interactive_bash(ws, env):
    socket = f"mlws-complete-{uuid.uuid4().hex[:8]}"
    tmux = lambda *a: subprocess.run(["tmux", "-L", socket, *a], capture_output=True, text=True, timeout=30)
    rc = ws / "bashrc"
    rc.write_text(
        f'PS1="$ "\nmlws() {{ {shlex.quote(sys.executable)} -m mlws.cli.main "$@"; }}\neval "$(mlws completion bash)"\n'
    )
    envs = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items() if k in ("PATH", "PYTHONPATH", "HOME"))
    try:
        tmux(
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            "150",
            "-y",
            "20",
            f"cd {shlex.quote(str(ws))} && env {envs} bash --noprofile --rcfile {shlex.quote(str(rc))} -i",
        )
        screen = lambda: tmux("capture-pane", "-p", "-t", "t").stdout
        wait_for(lambda: screen().lstrip().startswith("$"), timeout=30, what="the prompt")  # (trailing spaces trimmed)
        tmux("send-keys", "-t", "t", "mlws train +experiment=model_1", "Tab", "Tab")
        wait_for(lambda: "model_12" in screen(), timeout=30, what="the experiments listed")
        tmux("send-keys", "-t", "t", "2 compute=l", "Tab")
        wait_for(lambda: "+experiment=model_12 compute=local" in screen(), timeout=30, what="compute=local completed")
    finally:
        tmux("kill-server")


def test_zsh_script_and_outside_a_workspace(tmp_path, env):
    zsh = mlws("completion", "zsh", cwd=tmp_path, env=env)
    assert zsh.returncode == 0 and zsh.stdout.startswith("#compdef mlws") and "compdef _mlws mlws" in zsh.stdout
    out = mlws("__complete", "2", "mlws", "train", "model.", cwd=tmp_path, env=env)  # no workspace here
    assert out.returncode == 0 and out.stdout == ""
    for odd in (["-5", "mlws"], ["x"], ["2", "mlws", "nosuch", "--x"]):
        out = mlws("__complete", *odd, cwd=tmp_path, env=env)
        assert out.returncode == 0 and out.stderr == "", (odd, out.stderr)
