"""The background media renderer: drawings come back in order, close flushes them, a failing drawing
is reported once and training goes on, a stop ends the renderer promptly with no half-written PNG,
and a view's hook returns before its drawing is done."""

import time
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from mlws.training import media_draw
from mlws.training.media import Drawing, MediaCallback, MediaOutbox
from mlws.training.media_worker import BackgroundRenderer

VIEWS = """
import time
import numpy as np

def slow(seconds, value):
    time.sleep(seconds)
    return np.full((4, 4, 3), value, dtype=np.uint8)

def broken(message):
    raise ValueError(message)
"""


@pytest.fixture
def views(tmp_path, monkeypatch):
    """A module of drawing functions that only this test's sys.path (and so the child's) can import."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "testviews_h2.py").write_text(VIEWS)
    monkeypatch.syspath_prepend(str(tmp_path / "pkg"))
    return "testviews_h2"


def matrix(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 20, size=(4, 4))


@pytest.mark.slow  # seconds: out of the fast lane (make test-fast), still in make test
def test_drawings_come_back_in_order_and_close_flushes_them(tmp_path):
    renderer = BackgroundRenderer(max_pending=2)  # the third submit waits for the first to finish
    paths = [tmp_path / "media" / f"epoch{i:03d}.png" for i in range(5)]
    for i, path in enumerate(paths):
        renderer.submit(i, "mlws.training.media_draw:confusion_matrix", {"matrix": matrix(i)}, str(path))
    done = renderer.close(timeout=120)
    assert [d.tag for d in done] == [0, 1, 2, 3, 4] and all(d.error is None for d in done)
    assert [d.path for d in done] == [str(p) for p in paths]
    for i, path in enumerate(paths):  # the same pixels as drawing it here
        assert np.array_equal(np.asarray(Image.open(path).convert("RGB")), media_draw.confusion_matrix(matrix(i)))
    assert not list((tmp_path / "media").glob(".*"))  # no temporary file left behind
    assert renderer.pending() == 0


def test_a_failing_drawing_is_reported_once_and_the_rest_are_drawn(tmp_path, views, capfd):
    outbox, logged = MediaOutbox(), []
    logger = SimpleNamespace(log_image=lambda key, images, step: logged.append((key, images[0], step)))
    trainer = SimpleNamespace(default_root_dir=str(tmp_path), current_epoch=0, global_step=0, loggers=[logger])
    for epoch in range(3):
        trainer.current_epoch, trainer.global_step = epoch, 10 * epoch
        outbox.submit(trainer, "bad", Drawing(f"{views}:broken", {"message": f"no luck {epoch}"}))
        outbox.submit(trainer, "good", Drawing(f"{views}:slow", {"seconds": 0, "value": epoch}))
    outbox.close(trainer)
    err = capfd.readouterr().err
    assert err.count("media view 'bad' was not drawn") == 1 and "ValueError: no luck 0" in err
    assert logged == [("media/good", str(tmp_path / "media/good" / f"epoch{e:03d}.png"), 10 * e) for e in range(3)]
    assert not (tmp_path / "media" / "bad").exists()
    assert np.asarray(Image.open(tmp_path / "media/good/epoch002.png"))[0, 0].tolist() == [2, 2, 2]


@pytest.mark.slow  # seconds: out of the fast lane (make test-fast), still in make test
def test_a_stop_ends_the_renderer_promptly_without_half_written_files(tmp_path, views):
    renderer = BackgroundRenderer()
    renderer.submit("quick", f"{views}:slow", {"seconds": 0, "value": 1}, str(tmp_path / "quick.png"))
    renderer.submit("stuck", f"{views}:slow", {"seconds": 60, "value": 2}, str(tmp_path / "stuck.png"))
    started = time.monotonic()
    done = renderer.close(timeout=3)
    assert time.monotonic() - started < 15
    assert [(d.tag, d.error is None) for d in done] == [("quick", True), ("stuck", False)]
    assert "not drawn" in done[1].error
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "pkg") == ["quick.png"]


class SlowView(MediaCallback):
    """A view whose drawing takes longer than a training epoch would."""

    module = ""

    def collect(self, preds, pl_module) -> dict:
        return {"slow": Drawing(f"{self.module}:slow", {"seconds": 3, "value": 7}), "mean": 0.5}


@pytest.mark.slow  # seconds: out of the fast lane (make test-fast), still in make test
def test_the_training_thread_does_not_wait_for_a_drawing(tmp_path, views, monkeypatch):
    import mlws.training.media as media

    monkeypatch.setenv("MLWS_MEDIA_DRAW", "background")  # auto draws in-process on 2 cores
    monkeypatch.setattr(media, "_OUTBOX", MediaOutbox())
    monkeypatch.setattr(media, "validation_predictions", lambda trainer, pl_module: None)
    logged, scalars = [], []
    logger = SimpleNamespace(log_image=lambda key, images, step: logged.append((key, step)))
    trainer = SimpleNamespace(
        default_root_dir=str(tmp_path),
        current_epoch=0,
        global_step=42,
        loggers=[logger],
        sanity_checking=False,
        is_global_zero=True,
    )
    view = SlowView()
    view.module = views
    module = SimpleNamespace(log_dict=scalars.append)
    media.outbox().renderer.submit(None, f"{views}:slow", {"seconds": 0, "value": 0}, str(tmp_path / "warm.png"))
    deadline = time.monotonic() + 60  # the child has started (its start-up is not what is timed)
    while not media.outbox().renderer.finished() and time.monotonic() < deadline:
        time.sleep(0.05)
    started = time.monotonic()
    view.on_validation_epoch_end(trainer, module)
    assert time.monotonic() - started < 1.5  # the drawing itself takes 3 s
    assert scalars == [{"mean": 0.5}] and logged == []
    view.on_fit_end(trainer, module)  # waits for it, then logs it with the step it was collected at
    assert logged == [("media/slow", 42)] and (tmp_path / "media/slow/epoch000.png").is_file()


def test_the_renderer_child_ignores_the_run_process_group(tmp_path):
    """A stop's SIGTERM to the trainer's process group must not reach the renderer (its own session)."""
    import os

    renderer = BackgroundRenderer()
    renderer.submit(
        0, "mlws.training.media_draw:as_is", {"image": np.zeros((2, 2, 3), np.uint8)}, str(tmp_path / "a.png")
    )
    child = renderer._child
    assert child is not None and os.getpgid(child.pid) != os.getpgid(0)
    renderer.close(timeout=60)
    assert child.poll() is not None and (tmp_path / "a.png").is_file()


def test_the_drawing_process_is_used_only_where_a_core_is_spare(monkeypatch, tmp_path):
    """Auto: in-process on 2 cores or fewer that torch uses (a drawing process would take a core from
    training), in a process where torch leaves a core free;
    MLWS_MEDIA_DRAW chooses either way. In-process drawings keep the contract: in order, errors kept."""
    import torch

    from mlws.training import media_worker

    monkeypatch.setattr(media_worker.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.delenv("MLWS_MEDIA_DRAW", raising=False)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 2)
    assert isinstance(media_worker.new_renderer(), media_worker.InlineRenderer)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 1)  # OMP_NUM_THREADS=1: torch leaves a core free
    assert media_worker.spare_cores()
    monkeypatch.setattr(torch, "get_num_threads", lambda: 4)
    monkeypatch.setattr(media_worker.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    assert media_worker.spare_cores()
    monkeypatch.setenv("MLWS_MEDIA_DRAW", "inline")
    assert not media_worker.spare_cores()
    monkeypatch.setenv("MLWS_MEDIA_DRAW", "background")
    assert media_worker.spare_cores()

    inline = media_worker.InlineRenderer()
    inline.submit(
        "a", "mlws.training.media_draw:as_is", {"image": np.zeros((4, 5, 3), np.uint8)}, str(tmp_path / "a.png")
    )
    inline.submit("b", "mlws.training.media_draw:no_such_drawing", {}, str(tmp_path / "b.png"))
    done = inline.close(1.0)
    assert [d.tag for d in done] == ["a", "b"] and done[0].error is None and "no_such_drawing" in done[1].error
    assert (tmp_path / "a.png").is_file() and not (tmp_path / "b.png").exists()
