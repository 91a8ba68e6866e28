"""Building the shot and driving a job by polling: with scripted jobs and with a real engine."""

from __future__ import annotations

import time

from inbetween_krita import client_lib as cl
from inbetween_krita.job_runner import GenerateParams, JobRunner, backend_options, build_request, swap_channels
from inbetween_krita.krita_io import ShotSource

from .conftest import H, W, disc, solid


def test_build_request_converts_bgra_with_per_segment_timing_exposure_and_fps():
    src = ShotSource(W, H, {0: solid(1, 2, 3), 4: solid(4, 5, 6), 8: solid(7, 8, 9)},
                     {2: solid(10, 11, 12, 13)})
    params = GenerateParams(backend="tooncrafter", timing="ease-in", segment_timing={4: "ease-out"},
                            exposure=2, fps=12.0, options={"seed": 7, "steps": 20, "fault": "x"})
    req = build_request(src, params)
    assert (req.width, req.height) == (W, H)
    assert req.keys[0].encoding == "rgba" and req.keys[0].data[:4] == bytes((3, 2, 1, 255))
    assert req.sketches[2].data[:4] == bytes((12, 11, 10, 13))
    assert req.timing == {0: "ease-in", 4: "ease-out"}
    assert (req.exposure, req.fps) == (2, 12.0)
    assert req.options == {"seed": 7, "steps": 20}  # only what tooncrafter uses
    assert req.backend == "tooncrafter" and req.encoding == "rgba" and req.previews
    assert build_request(src, GenerateParams(options={"seed": 3})).options == {}  # flow: no seed
    # flow's one option the docker sets: the fast preview
    assert build_request(src, GenerateParams(options={"seed": 3, "preview": True})).options == {"preview": True}


def test_options_shown_per_backend():
    assert backend_options("flow") == ("preview",)
    assert "seed" in backend_options("tooncrafter") and "steps" in backend_options("tooncrafter")
    assert backend_options("new-one") == ("seed",)
    assert backend_options("flow", {"options": ["steps"]}) == ("steps",)  # the engine's word wins


def test_channel_swap_in_chunks_matches_the_whole_buffer_swap(monkeypatch):
    import inbetween_krita.job_runner as jr

    monkeypatch.setattr(jr, "CHUNK", 64)
    data = bytes(range(256)) * 5
    assert swap_channels(data) == cl.bgra_to_rgba(data)


class ScriptedJob:
    """Stands in for `Job`: hands out scripted batches of events, one batch per poll."""

    def __init__(self, batches):
        self.batches = list(batches)
        self.cancelled = False

    def poll(self):
        if not self.batches:
            return []
        batch = self.batches.pop(0)
        if isinstance(batch, Exception):
            raise batch
        return batch

    def cancel(self):
        self.cancelled = True
        self.batches.append([cl.Failed("cancelled", "job cancelled")])


class ManualTimer:
    def __init__(self, cb):
        self.cb, self.running = cb, False

    def start(self, ms):
        self.running = True

    def stop(self):
        self.running = False


def run(job, expected=(1, 2)):
    seen = {"status": [], "progress": [], "outcome": None}
    timers = []

    def factory(cb):
        timers.append(ManualTimer(cb))
        return timers[-1]

    r = JobRunner(job, list(expected), on_status=seen["status"].append,
                  on_progress=lambda f, s: seen["progress"].append(f),
                  on_finished=lambda o: seen.__setitem__("outcome", o), timer_factory=factory)
    r.start()
    assert timers[0].running
    deadline = time.monotonic() + 30
    while not r.pump():  # frames are converted in a worker thread
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert not timers[0].running  # the timer stops with the job
    return r, seen


def rgba_frame(t, value):
    return cl.Frame(t, 1, 1, "rgba", bytes((value, 0, 0, 255)))


def test_done_gives_bgra_frames_and_ignores_previews():
    job = ScriptedJob([[cl.Queued(1), cl.Queued(0)], [cl.Started(), cl.Progress(0.5, "warp")],
                       [cl.Frame(1, 1, 1, "rgba", b"\0\0\0\0", preview=True), rgba_frame(1, 9)],
                       [rgba_frame(2, 8), cl.Done([1, 2], {}, {"s": 1})]])
    r, seen = run(job)
    out = seen["outcome"]
    assert out.state == "done" and out.stats == {"s": 1}
    assert out.frames == {1: bytes((0, 0, 9, 255)), 2: bytes((0, 0, 8, 255))}  # RGBA -> BGRA
    assert "queued: 1 job(s) ahead" in seen["status"] and "generating..." in seen["status"]
    assert seen["progress"] == [0.5, 1.0]


def test_preview_and_final_frames_get_thumbnails_in_the_worker():
    job = ScriptedJob([[cl.Frame(1, 1, 1, "rgba", bytes((1, 2, 3, 4)), preview=True)],
                       [rgba_frame(1, 9), rgba_frame(2, 8)], [cl.Done([1, 2], {}, {})]])
    shown = []
    r = JobRunner(job, [1, 2], timer_factory=None, thumbnailer=lambda bgra, w, h: ("thumb", bgra),
                  on_preview=lambda t, img: shown.append((t, img)))
    deadline = time.monotonic() + 30
    while not r.pump():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert shown[0] == (1, ("thumb", bytes((3, 2, 1, 4))))  # BGRA for Krita and for QImage
    assert r.outcome.thumbs == {1: ("thumb", bytes((0, 0, 9, 255))), 2: ("thumb", bytes((0, 0, 8, 255)))}


def test_missing_frames_fail_the_job():
    r, seen = run(ScriptedJob([[rgba_frame(1, 1), cl.Done([1], {}, {})]]))
    assert seen["outcome"].state == "failed" and "[2]" in seen["outcome"].message


def test_held_frames_are_not_missing():
    r, seen = run(ScriptedJob([[rgba_frame(1, 1), cl.Done([1], {2: 1}, {})]]))
    assert seen["outcome"].state == "done" and seen["outcome"].holds == {2: 1}


def test_engine_errors_and_lost_connections_are_outcomes():
    r, seen = run(ScriptedJob([[cl.Failed("backend_failed", "boom")]]))
    assert (seen["outcome"].state, seen["outcome"].code, seen["outcome"].message) == ("failed", "backend_failed", "boom")
    r, seen = run(ScriptedJob([cl.ConnectionLost("engine died")]))
    assert seen["outcome"].code == "connection_lost" and "engine died" in seen["outcome"].message
    r, seen = run(ScriptedJob([[cl.Frame(1, 1, 1, "png", b"x")]]))
    assert seen["outcome"].code == "bad_frame"


def test_cancel():
    job = ScriptedJob([[cl.Started()], [], [], []])
    r = JobRunner(job, [1], timer_factory=None)
    r.pump()
    r.cancel()
    assert job.cancelled
    while not r.pump():
        pass
    assert r.outcome.state == "cancelled"
    r.cancel()  # harmless once finished


def test_real_engine_flow_backend(client):
    """The bundled client against a real engine: keys at 0 and 4, a sketch at 2."""
    src = ShotSource(W, H, {0: disc(10, 15, 6), 4: disc(30, 15, 6)}, {2: disc(20, 15, 6)})
    job = client.submit(build_request(src, GenerateParams()))
    r = JobRunner(job, src.inbetween_frames, timer_factory=None)  # previews: flow sends none
    deadline = time.monotonic() + 120
    while not r.pump():
        assert time.monotonic() < deadline, "the engine did not finish"
        time.sleep(0.02)
    assert r.outcome.state == "done", r.outcome
    assert sorted(r.outcome.frames) == [1, 2, 3]
    for t, data in r.outcome.frames.items():
        assert len(data) == W * H * 4
        assert any(a > 0 for a in data[3::4]), f"frame {t} is blank"
