"""A training run's terminal shows the progress bar and mlws's summary, not the libraries' notices:
those mlws's own defaults caused are gone, the rest are in the run's log (RUN_DIR/train.log)."""

import logging
import warnings

from ..support.helpers import mlws, mlws_json

# What a newcomer met on every run (issue 32 point 6), with the default W&B logger offline.
NOISE = [
    "litlogger",
    "limit_train_batches",
    "limit_val_batches",
    "anonymous setting",
    "`resume` will be ignored",
    "LeafSpec",
    "Total FLOPs",
    "Total Flops",
    "GPU available: False",
    "TPU available",
    "`Trainer.fit` stopped",
]


def test_a_training_run_prints_none_of_the_libraries_notices(ws, env):
    # fresh: the notices the libraries print while being imported count too
    out = mlws(
        "train",
        "+experiment=model_12",
        "trainer.max_epochs=1",
        "callbacks=[default,confusion_matrix]",
        cwd=ws,
        env=env,
        fresh=True,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    terminal = out.stdout + out.stderr
    assert [n for n in NOISE if n in terminal] == [], terminal
    # one line in mlws's words instead: the device, and where the notices went
    assert f"run 1: training on cpu (GPU available: no); notices and warnings: {ws / 'runs/1/train.log'}" in terminal
    run = mlws_json("show", "1", cwd=ws, env=env)
    assert run["status"] == "succeeded" and run["artifacts"]["wandb_mode"] == "offline"
    log = (ws / "runs/1/train.log").read_text()
    assert run["artifacts"]["log"] == str(ws / "runs/1/train.log")
    # kept, not lost: Lightning's notices and its model summary are in the run's log
    assert "GPU available" in log and "Trainable params" in log
    # caused by mlws's own defaults, so nowhere any more
    assert "limit_train_batches" not in log and "anonymous setting" not in log
    assert f"train.log ({run['artifacts']['warnings']} warning" in terminal or run["artifacts"]["warnings"] == 0
    # where the media views' images are, in the summary and the record
    media = run["artifacts"]["media"]["confusion_matrix"]
    assert list((ws / "runs/1/media/confusion_matrix").glob("*.png")) and media == str(
        ws / "runs/1/media/confusion_matrix"
    )
    assert "(confusion_matrix)" in terminal


def test_the_route_takes_over_a_logger_a_later_import_configures(tmp_path):
    """A Lightning package imported during the run adds its terminal handler: claim() takes it over,
    and the handler is back afterwards."""
    from mlws.training.quiet import chatter_to_log

    logger = logging.getLogger("lightning.pytorch")
    before = logger.handlers[:]
    added = logging.StreamHandler()
    with chatter_to_log(tmp_path) as route:
        logger.addHandler(added)  # what `import lightning.pytorch` does when the root has no handlers
        route.claim()
        assert added not in logger.handlers
        logger.info("a notice")
        warnings.warn("a deprecation", FutureWarning, stacklevel=1)
    assert logger.handlers == before + [added]
    logger.removeHandler(added)
    text = (tmp_path / "train.log").read_text()
    assert "a notice" in text and "FutureWarning: a deprecation" in text and route.stats["warnings"] == 1
