"""Media views drawn in the background: a run stopped with `mlws stop` (default W&B logger, offline)
ends promptly and `stopped`, every image it kept is whole and in the W&B run at the step it was
collected at, and the renderer process does not outlive the run."""

import json
import os
import signal
import subprocess
import sys
import time

from PIL import Image

from ..support.helpers import mlws, mlws_json, wait_for, wandb_history

LONG = [
    "+experiment=model_12",
    "trainer.max_epochs=1000",
    "trainer.limit_train_batches=4",
    "trainer.limit_val_batches=3",
    "monitor.hardware_interval_s=0",
    "callbacks=[default,confusion_matrix,worst_samples]",
]


def renderers_of(ws) -> list[int]:
    import psutil

    out = []
    for proc in psutil.process_iter(["pid", "cmdline", "cwd"]):
        try:
            if "mlws.training.media_worker" in (proc.info["cmdline"] or []) and proc.info["cwd"] == str(ws):
                out.append(proc.info["pid"])
        except psutil.Error:
            continue
    return out


def test_a_stopped_run_with_media_views_ends_promptly_with_whole_images_in_wandb(ws, env, tmp_path):
    log = tmp_path / "terminal.txt"
    with log.open("w") as f:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mlws.cli.main", "train", *LONG],
            cwd=ws,
            env={**env, "MLWS_MEDIA_DRAW": "background"},  # auto draws in-process on a machine of 2 cores
            stdout=f,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    media = ws / "runs" / "1" / "media"
    try:
        wait_for(lambda: len(list(media.glob("*/epoch*.png"))) >= 4, timeout=240, what="images of two validations")
        assert renderers_of(ws), "the views draw in a renderer process"
        assert mlws("stop", "1", cwd=ws, env=env).returncode == 0
        stopped_at = time.monotonic()
        assert proc.wait(timeout=120) == 143, log.read_text()[-3000:]
        assert time.monotonic() - stopped_at < 60
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    run = mlws_json("show", "1", cwd=ws, env=env)
    assert run["status"] == "stopped" and "SIGTERM" in run["stop_reason"]
    assert not [p for p in media.rglob("*") if p.name.startswith(".")]  # no temporary file left
    pngs = sorted(media.glob("*/epoch*.png"))
    for png in pngs:
        with Image.open(png) as image:
            image.load()  # a truncated PNG raises here
    # each kept image is in the W&B run, logged at the step of the validation it shows
    steps = {line["epoch"]: line["step"] for line in map(json.loads, (ws / "runs/1/metrics.jsonl").open())}
    history = wandb_history(ws / "runs" / "1")
    for view in ("confusion_matrix", "worst_samples"):
        logged = [row["trainer/global_step"] for row in history if f"media/{view}/_type" in row]
        kept = [steps[int(p.stem[len("epoch") :])] for p in sorted((media / view).glob("epoch*.png"))]
        assert len(kept) >= 2 and logged == kept, (view, logged, kept)
    wait_for(lambda: not renderers_of(ws), timeout=30, what="the renderer to end with the run")
