"""The job queue through a real engine: results, cancel, fairness, limits, vanished clients."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from inbetween_client.client import Done, EngineClient, Failed, Frame, Progress, Started
from inbetween_client.errors import JobCancelledError, RemoteError
from inbetween_client.images import ImageData
from inbetween_client.shot import ShotRequest
from tests.imaging import disc_image, png_bytes


def _shot(inbetweens=3, w=128, h=96, **kw) -> ShotRequest:
    a = ImageData.png(png_bytes(disc_image(w, h, center=(30, h // 2))))
    b = ImageData.png(png_bytes(disc_image(w, h, center=(w - 30, h // 2))))
    return ShotRequest.between(a, b, inbetweens=inbetweens, **kw)


def _big(inbetweens=200) -> ShotRequest:
    return _shot(inbetweens=inbetweens, w=1024, h=768)


def _wait_until(predicate, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_result_frames_are_rgba_of_the_key_size_in_order(client):
    frames = []
    job = client.submit(_shot(inbetweens=5))
    events = list(job.events(timeout=60))
    assert isinstance(events[-1], Done)
    assert any(isinstance(e, Started) for e in events)
    frames = [e for e in events if isinstance(e, Frame) and not e.preview]
    assert [f.frame for f in frames] == [1, 2, 3, 4, 5]
    for f in frames:
        assert (f.width, f.height, f.encoding) == (128, 96, "rgba")
        assert len(f.data) == 128 * 96 * 4
    # the middle frame differs from both keys: something was actually in-betweened
    mid = np.frombuffer(frames[2].data, np.uint8).reshape(96, 128, 4)
    assert not np.array_equal(mid, disc_image(center=(30, 48)))
    assert not np.array_equal(mid, disc_image(center=(98, 48)))


def _disc_x(frame: Frame) -> float:
    """x of the red disc's centre in a returned frame."""
    px = np.frombuffer(frame.data, np.uint8).reshape(frame.height, frame.width, 4)
    red = (px[..., 0] > 150) & (px[..., 1] < 120)
    return float(np.nonzero(red)[1].mean())


def test_timing_curves_move_the_inbetweens(client):
    # the disc goes from x=30 to x=98; the first of two in-betweens sits at t=1/3 (linear),
    # t=1/9 (ease-in: starts slow) or t=5/9 (ease-out: starts fast)
    xs = {curve: _disc_x(client.interpolate(_shot(inbetweens=2, timing=curve)).frames[1])
          for curve in ("linear", "ease-in", "ease-out")}
    assert xs["linear"] == pytest.approx(30 + 68 / 3, abs=4)
    assert xs["ease-in"] == pytest.approx(30 + 68 / 9, abs=4)
    assert xs["ease-out"] == pytest.approx(30 + 68 * 5 / 9, abs=4)


def test_png_output(client):
    result = client.interpolate(_shot(inbetweens=2, encoding="png"))
    assert sorted(result.frames) == [1, 2]
    assert all(f.data[:8] == b"\x89PNG\r\n\x1a\n" for f in result.frames.values())


def test_exposure_on_twos_returns_drawings_and_holds(client):
    a = ImageData.png(png_bytes(disc_image()))
    b = ImageData.png(png_bytes(disc_image(center=(96, 48))))
    req = ShotRequest(128, 96, keys={0: a, 6: b}, exposure=2)
    result = client.interpolate(req)
    assert sorted(result.frames) == [2, 4]
    assert result.holds == {1: 0, 3: 2, 5: 4}


def test_cancel_a_running_job_frees_the_worker(client):
    job = client.submit(_big())
    for ev in job.events(timeout=60):
        if isinstance(ev, (Progress, Frame)):
            break
    job.cancel()
    with pytest.raises(JobCancelledError):
        job.wait(timeout=60)
    assert len(client.interpolate(_shot(inbetweens=2)).frames) == 2


def test_cancel_a_queued_job(client):
    blocker = client.submit(_big())
    # on a busy machine the worker may not have taken the blocker yet: wait until it runs
    next(e for e in blocker.events(timeout=60) if isinstance(e, Started))
    queued = client.submit(_shot())
    assert queued.position == 0  # next in line behind the running blocker
    queued.cancel()
    with pytest.raises(JobCancelledError):
        queued.wait(timeout=30)
    blocker.cancel()
    with pytest.raises(JobCancelledError):
        blocker.wait(timeout=60)


def test_cancel_of_someone_elses_job_is_refused(engine, client):
    job = client.submit(_big())
    with EngineClient.connect(engine.info) as other:
        other._send(__import__("inbetween_client.protocol", fromlist=["Message"]).Message(
            "cancel", {"job": job.id}))
        assert other.ping() < 5
    assert client.status()["running"][0]["job"] == job.id
    job.cancel()
    with pytest.raises(JobCancelledError):
        job.wait(timeout=60)


def test_jobs_of_two_clients_interleave_fairly(engine, client):
    blocker = client.submit(_shot(inbetweens=40, w=640, h=480))
    mine = [client.submit(_shot()) for _ in range(3)]
    with EngineClient.connect(engine.info) as other:
        theirs = other.submit(_shot(inbetweens=40, w=640, h=480))
        # round-robin: the other client's job runs after at most one more job of the first
        assert theirs.position == 1, client.status()["queue"]
        for ev in theirs.events(timeout=120):
            if isinstance(ev, Started):
                break
        # while theirs runs, the first client's later jobs still wait: it did not queue-jump
        mine[0].wait(timeout=120)
        status = client.status()
        assert [r["job"] for r in status["running"]] == [theirs.id]
        assert [q["job"] for q in status["queue"]] == [mine[1].id, mine[2].id]
        theirs.cancel()
    for job in [blocker, *mine]:
        job.wait(timeout=120)


def test_one_client_cannot_queue_without_bound(client, engine):
    from engine.server import MAX_QUEUED_JOBS_PER_CLIENT

    jobs = [client.submit(_big())]
    jobs += [client.submit(_shot()) for _ in range(MAX_QUEUED_JOBS_PER_CLIENT - 1)]
    with pytest.raises(RemoteError, match="unfinished jobs") as err:
        client.submit(_shot())
    assert err.value.code == "queue_full"
    with EngineClient.connect(engine.info) as other:  # others are not affected
        theirs = other.submit(_shot())
        assert theirs.position == 1  # right after the first client's next job, not after all 31
    for job in jobs:
        job.cancel()


CLIENT_SCRIPT = textwrap.dedent("""
    import sys
    from inbetween_client.client import EngineClient, Started
    from inbetween_client.connection import read_connection_file
    from inbetween_client.images import ImageData
    from inbetween_client.shot import ShotRequest
    import cv2, numpy as np
    img = np.full((768, 1024, 4), 255, np.uint8)
    cv2.circle(img, (100, 300), 60, (200, 30, 30, 255), -1)
    a = ImageData.png(cv2.imencode('.png', img)[1].tobytes())
    img2 = np.full((768, 1024, 4), 255, np.uint8)
    cv2.circle(img2, (900, 300), 60, (200, 30, 30, 255), -1)
    b = ImageData.png(cv2.imencode('.png', img2)[1].tobytes())
    c = EngineClient.connect(read_connection_file(sys.argv[1]))
    job = c.submit(ShotRequest.between(a, b, inbetweens=300))
    for ev in job.events():
        if isinstance(ev, Started):
            print("started", job.id, flush=True)
    """)


def test_a_killed_client_cancels_its_job_and_frees_the_worker(engine, client, tmp_path):
    script = tmp_path / "client.py"
    script.write_text(CLIENT_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), str(engine.connection_file)],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("started"), line
        job_id = line.split()[1]
        assert client.status()["running"][0]["job"] == job_id
    finally:
        proc.kill()
        proc.wait()
    _wait_until(lambda: not client.status()["running"], timeout=30, what="the job to be cancelled")
    assert len(client.interpolate(_shot(inbetweens=2)).frames) == 2


def test_status_reports_queue_and_clients(client):
    job = client.submit(_big())
    queued = client.submit(_shot())
    st = client.status()
    assert st["pid"] > 0 and st["device"] == "cpu"
    assert [r["job"] for r in st["running"]] == [job.id]
    assert [q["job"] for q in st["queue"]] == [queued.id]
    job.cancel()
    queued.cancel()
    for j in (job, queued):
        with pytest.raises(JobCancelledError):
            j.wait(timeout=60)


def test_events_are_reported_as_failed_event_not_exception_in_iterator(client):
    job = client.submit(_big())
    job.cancel()
    events = list(job.events(timeout=60))
    assert isinstance(events[-1], Failed) and events[-1].code == "cancelled"
