"""Rendering media views in a background process, off the training loop's critical path.

The training thread sends small numpy arrays and the name of a drawing function
("module:function", importable without torch); a child process draws them with matplotlib, writes
each PNG atomically and answers in order. A process, not a thread: matplotlib holds the GIL for
most of a drawing, which a thread would take from the training loop.

Policy: at most `max_pending` drawings are outstanding; one more waits for the oldest to finish
(back-pressure, nothing is dropped). `close` waits for the outstanding ones up to a deadline, then
ends the child: its PNGs are whole or absent. The child lives in its own session, so a stop's
SIGINT/SIGTERM to the run's process group reaches only the trainer, which decides how long to wait;
if the trainer dies, the child reads EOF and exits."""

from __future__ import annotations

import importlib
import os
import pickle
import queue
import subprocess
import sys
import threading
from dataclasses import dataclass
from typing import Any

NICENESS = 10  # the trainer's work comes first on a busy machine; the drawings catch up


@dataclass
class Done:
    """One finished drawing: its tag (the submitter's, never sent to the child), the PNG written,
    or why not."""

    tag: Any
    path: str
    error: str | None


class BackgroundRenderer:
    def __init__(self, max_pending: int = 8):
        self._sent: dict[int, tuple[Any, str]] = {}
        self._next_id = 0
        self._slots = threading.Semaphore(max_pending)
        self._done: queue.Queue[Done] = queue.Queue()
        self._lock = threading.Lock()
        self._child: subprocess.Popen | None = None
        self._reader: threading.Thread | None = None
        self.exited: str | None = None  # why the child is gone before it was closed

    def _start(self) -> None:
        self._child = subprocess.Popen(
            [sys.executable, "-m", __name__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,
            # mlws itself may be on a sys.path entry added at run time (a Ray job's working dir)
            env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
        )
        self._write(list(sys.path))  # the views' modules import in the child as they do here
        self._reader = threading.Thread(target=self._read, args=(self._child,), name="mlws-media-reader", daemon=True)
        self._reader.start()

    def _write(self, message) -> None:
        assert self._child is not None and self._child.stdin is not None
        pickle.dump(message, self._child.stdin, protocol=pickle.HIGHEST_PROTOCOL)
        self._child.stdin.flush()

    def _read(self, child: subprocess.Popen) -> None:
        assert child.stdout is not None
        while True:
            try:
                job_id, error = pickle.load(child.stdout)
            except Exception:  # EOF: the child finished (closed) or died
                break
            self._finish(job_id, error)
        with self._lock:
            lost = list(self._sent)
            if lost and self.exited is None:
                self.exited = f"the media renderer exited (code {child.wait()})"
        for job_id in lost:
            # drawn but not yet answered when the child ended: a PNG is only ever renamed in whole
            drawn = os.path.exists(self._sent.get(job_id, (None, ""))[1])
            self._finish(job_id, None if drawn else self.exited or "the media renderer exited")

    def _finish(self, job_id: int, error: str | None) -> None:
        with self._lock:
            entry = self._sent.pop(job_id, None)
        if entry is not None:
            self._done.put(Done(entry[0], entry[1], error))
            self._slots.release()

    def submit(self, tag, function: str, arguments: dict, path: str) -> None:
        """Draw `function(**arguments)` into `path` (PNG); waits while max_pending are outstanding."""
        if self.exited is not None:
            self._done.put(Done(tag, path, self.exited))
            return
        if self._child is None:
            self._start()
        self._slots.acquire()
        with self._lock:
            job_id, self._next_id = self._next_id, self._next_id + 1
            self._sent[job_id] = (tag, path)
        try:
            self._write((job_id, function, arguments, path))
        except (OSError, ValueError) as e:  # the child is gone; its reader settles what was sent
            with self._lock:
                self.exited = self.exited or f"the media renderer exited ({e})"
            self._finish(job_id, self.exited)

    def finished(self) -> list[Done]:
        """The drawings finished since the last call, in the order they were submitted."""
        out = []
        while True:
            try:
                out.append(self._done.get_nowait())
            except queue.Empty:
                return out

    def pending(self) -> int:
        with self._lock:
            return len(self._sent)

    def close(self, timeout: float) -> list[Done]:
        """Wait up to `timeout` s for the outstanding drawings, then end the child; what finished
        since the last `finished()` (an unfinished one comes back with its error)."""
        child = self._child
        if child is not None and child.poll() is None:
            try:
                assert child.stdin is not None
                child.stdin.close()  # EOF: the child exits once its queue is drawn
            except OSError:
                pass
            try:
                child.wait(timeout)
            except subprocess.TimeoutExpired:
                with self._lock:
                    self.exited = f"not drawn: the run ended before the media renderer ({len(self._sent)} left)"
                child.kill()
                child.wait()
        if self._reader is not None:
            self._reader.join(5)
        self._child, self._reader = None, None
        self.exited = None  # a later submit starts a fresh child
        return self.finished()


class InlineRenderer:
    """The same contract, drawn on the calling thread: where the run has no core to spare, a drawing
    process would take one from training (measured on 2 cores: training steps/s x0.52 against x1.02
    drawing in-process, bench/bench_monitoring.py), so drawing during validation costs less."""

    def __init__(self):
        self._done: list[Done] = []
        self.exited: str | None = None

    def submit(self, tag, function: str, arguments: dict, path: str) -> None:
        self._done.append(Done(tag, path, draw(function, arguments, path)))

    def finished(self) -> list[Done]:
        done, self._done = self._done, []
        return done

    def pending(self) -> int:
        return 0

    def close(self, timeout: float) -> list[Done]:
        return self.finished()


def spare_cores() -> bool:
    """Whether a drawing process can have a core of its own: more than two usable cores, or fewer
    torch threads than cores (OMP_NUM_THREADS=1 on two cores leaves one free), unless MLWS_MEDIA_DRAW
    says `background` or `inline`. On two cores that torch uses, a drawing process slows training
    (bench_media_paired: training steps/s ×0.77 in the background, ×1.00 in-process)."""
    chosen = os.environ.get("MLWS_MEDIA_DRAW", "auto")
    if chosen in ("background", "inline"):
        return chosen == "background"
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS
        cores = os.cpu_count() or 1
    import torch  # the trainer's own; already imported where media views draw

    return cores > 2 or torch.get_num_threads() < cores


def new_renderer():
    return BackgroundRenderer() if spare_cores() else InlineRenderer()


def _resolve(function: str):
    module, _, name = function.partition(":")
    return getattr(importlib.import_module(module), name)


def draw(function: str, arguments: dict, path: str) -> str | None:
    """Draw one image and write its PNG; None, or why not (reported by the trainer, once a view; the
    next drawing still runs)."""
    from .media_draw import save_png

    try:
        save_png(_resolve(function)(**arguments), path)
        return None
    except Exception as e:
        return f"{type(e).__name__}: {e}"


def serve(requests, replies) -> None:
    """The child: draw each request in order until EOF."""
    sys.path[:] = pickle.load(requests)
    while True:
        try:
            job_id, function, arguments, path = pickle.load(requests)
        except EOFError:
            return
        error = draw(function, arguments, path)
        pickle.dump((job_id, error), replies, protocol=pickle.HIGHEST_PROTOCOL)
        replies.flush()


def main() -> None:
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a print in a drawing function goes to stderr, not into the replies
    try:
        os.nice(NICENESS)
    except OSError:
        pass
    serve(sys.stdin.buffer, replies)


if __name__ == "__main__":
    main()
