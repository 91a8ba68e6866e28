"""The flow backend's learned path through the real engine: chosen when torch and the weights
are there, reported in the `done` stats and the CLI, and in-betweens that keep what animators
need (keys untouched, determinism, clean alpha, no flecks, lines that stay lines).

Tests that need the real RIFE 4.0 weights skip, saying how to fetch them, when they are not
in .cache/models (scripts/test.sh fetches them) or $INBETWEEN_TEST_MODELS_DIR.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from inbetween_client.client import EngineClient, Frame, Progress
from inbetween_client.images import ImageData
from inbetween_client.shot import ShotRequest
from tests.flow.conftest import REPO, bar, canvas, color_mask, components, disc, iou, principal_angle_deg
from tests.imaging import read_png, write_png

CELANIM = REPO.parent / "shared" / "bench" / "celanim"
HOW_TO = "inbetween-engine models download rife"
RED, BLUE = (220, 60, 50), (60, 90, 220)


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "engine", *args], capture_output=True, text=True,
                          timeout=600, env=dict(os.environ), cwd=REPO)


def clip(name: str) -> Path:
    path = CELANIM / name
    if not path.is_dir():
        pytest.skip(f"celanim bench data not here ({path})")
    return path


def interpolate_json(a: Path, b: Path, out: Path, *extra: str) -> dict:
    r = cli("interpolate", str(a), str(b), "--out", str(out), "--backend", "flow", "--json", *extra)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def decode(f: Frame) -> np.ndarray:
    if f.encoding == "png":
        img = cv2.imdecode(np.frombuffer(f.data, np.uint8), cv2.IMREAD_UNCHANGED)
        return cv2.cvtColor(img, cv2.COLOR_BGRA2RGBA)
    return np.frombuffer(f.data, np.uint8).reshape(f.height, f.width, 4).copy()


def run_job(client: EngineClient, a: np.ndarray, b: np.ndarray, times: list[float],
            models: Path | None, **options) -> tuple[list[np.ndarray], dict, list[object]]:
    """Frames (in order), done stats and the events as they arrived, through the real engine."""
    h, w = a.shape[:2]
    opts = dict(options)
    if models is not None:
        opts["model_dir"] = str(models)
    req = ShotRequest.between(ImageData.rgba(a.tobytes(), w, h), ImageData.rgba(b.tobytes(), w, h),
                              times=times, backend="flow", options=opts)
    job = client.submit(req)
    events: list[object] = []
    result = job.wait(on_progress=events.append, on_frame=events.append, timeout=600)
    frames = [decode(result.frames[i]) for i in sorted(result.frames)]
    assert len(frames) == len(times)
    return frames, result.stats, events


# ---------------------------------------------------------------- through the CLI, real weights


def test_celanim_runs_the_learned_path_keys_kept_and_deterministic(rife_models, tmp_path):
    c = clip("clip_003")
    a, b = c / "frame_0.png", c / "frame_8.png"
    runs = []
    for n in (1, 2):
        out = tmp_path / f"run{n}"
        s = interpolate_json(a, b, out, "--inbetweens", "3", "--model-dir", str(rife_models))
        assert s["flow_path"] == "learned" and "flow_hint" not in s
        assert isinstance(s["backend_s"], float) and s["backend_s"] > 0
        assert s["backend_s"] == s["engine_stats"]["backend_s"]
        assert (out / "frame_0000.png").read_bytes() == a.read_bytes()
        assert (out / "frame_0004.png").read_bytes() == b.read_bytes()
        runs.append([(out / f"frame_{i:04d}.png").read_bytes() for i in range(5)])
    assert runs[0] == runs[1]  # same keys, same engine: the same bytes
    mid = read_png(tmp_path / "run1" / "frame_0002.png")
    assert mid.shape == read_png(a).shape
    assert not np.array_equal(mid, read_png(a)) and not np.array_equal(mid, read_png(b))


def test_transparent_layer_keeps_a_clear_background(rife_models, tmp_path):
    """clip_004 is a character on a transparent layer: no halo, so every pixel farther from
    both keys' drawings than half their motion (+16 px for a pose in between) stays alpha 0."""
    c = clip("clip_004")
    meta = json.loads((c / "meta.json").read_text())
    assert meta["has_alpha"] is True
    ka, kb = read_png(c / "frame_0.png"), read_png(c / "frame_8.png")
    s = interpolate_json(c / "frame_0.png", c / "frame_8.png", tmp_path / "o",
                         "--times", "0.25,0.5,0.75", "--model-dir", str(rife_models))
    assert s["flow_path"] == "learned"

    def centre(m: np.ndarray) -> np.ndarray:
        ys, xs = np.nonzero(m)
        return np.array([xs.mean(), ys.mean()])

    drawn = (ka[..., 3] > 0) | (kb[..., 3] > 0)
    margin = 0.5 * np.linalg.norm(centre(ka[..., 3] > 0) - centre(kb[..., 3] > 0)) + 16
    far = cv2.distanceTransform((~drawn).astype(np.uint8), cv2.DIST_L2, 5) > margin
    assert far.mean() > 0.5  # the check covers most of the picture
    for i in (1, 2, 3):
        f = read_png(tmp_path / "o" / f"frame_{i:04d}.png")
        assert f[..., 3][far].max() == 0, f"in-between {i}: {(f[..., 3][far] > 0).sum()} px of halo"
        assert (f[..., 3] == 255).sum() > 0.5 * (ka[..., 3] == 255).sum()  # the character is there


def test_learned_false_forces_classical_even_with_weights(rife_models, tmp_path):
    c = clip("clip_003")
    s = interpolate_json(c / "frame_0.png", c / "frame_8.png", tmp_path / "o", "--inbetweens", "1",
                         "--model-dir", str(rife_models), "--no-learned")
    assert s["flow_path"] == "classical" and "flow_hint" not in s


def test_sketches_still_take_the_learned_path(rife_models, tmp_path):
    c = clip("clip_003")
    s = interpolate_json(c / "frame_0.png", c / "frame_8.png", tmp_path / "o", "--inbetweens", "3",
                         "--sketch", f"2={c / 'sketch_4.png'}", "--model-dir", str(rife_models))
    assert s["flow_path"] == "learned" and s["inbetweens"] == 3


# ---------------------------------------------------------------- without the weights


def test_without_weights_classical_runs_and_says_how_to_get_learned(tmp_path):
    c = clip("clip_003")
    empty = tmp_path / "models"
    empty.mkdir()
    s = interpolate_json(c / "frame_0.png", c / "frame_8.png", tmp_path / "o", "--inbetweens", "2",
                         "--model-dir", str(empty))
    assert s["flow_path"] == "classical" and s["engine_stats"]["flow_path"] == "classical"
    assert HOW_TO in s["flow_hint"] and "\n" not in s["flow_hint"]
    r = cli("interpolate", str(c / "frame_0.png"), str(c / "frame_8.png"), "--out",
            str(tmp_path / "h"), "--inbetweens", "1", "--model-dir", str(empty))
    assert r.returncode == 0, r.stderr
    assert "flow path: classical" in r.stdout
    assert any(line.startswith("note: ") and HOW_TO in line for line in r.stdout.splitlines())


def test_unusable_weights_file_falls_back_to_classical(tmp_path):
    """A truncated flownet.pkl (an interrupted copy) must not fail the job: classical runs and
    the hint names the file."""
    pytest.importorskip("torch", reason="without torch the weights file is never read")
    models = tmp_path / "models"
    (models / "rife").mkdir(parents=True)
    (models / "rife" / "flownet.pkl").write_bytes(b"PK\x03\x04 truncated")
    c = clip("clip_003")
    s = interpolate_json(c / "frame_0.png", c / "frame_8.png", tmp_path / "o", "--inbetweens", "1",
                         "--model-dir", str(models))
    assert s["flow_path"] == "classical"
    assert "flownet.pkl" in s["flow_hint"] and HOW_TO in s["flow_hint"]


# ---------------------------------------------------------------- synthetic cases, real weights


def _small_canvas(w: int = 256, h: int = 160) -> np.ndarray:
    img = np.zeros((h, w, 4), np.uint8)
    img[..., :3] = (235, 235, 225)
    img[..., 3] = 255
    return img


@pytest.mark.parametrize("end_x", [250.0, 300.0], ids=["half-out", "all-out"])
def test_part_leaving_the_picture_leaves_no_flecks(rife_models, client, end_x):
    """A disc (r 30, outlined) moves from x 190 towards x `end_x` on a 256 px canvas. In every
    in-between, opaque pixels of its fill or outline colour lie only within 10 px of the disc
    at its interpolated position; a part may fade as it leaves, but leaves no bits behind."""
    r, start_x, y = 30, 190.0, 80.0
    a = disc(_small_canvas(), (start_x, y), r, RED)
    b = disc(_small_canvas(), (end_x, y), r, RED)
    times = [0.25, 0.5, 0.75]
    frames, stats, _ = run_job(client, a, b, times, rife_models)
    if end_x < 256 + r:
        assert stats["flow_path"] == "learned"
    else:  # the network fades a part that leaves entirely; its self-check hands the segment on
        assert stats["flow_path"] == "learned" or "beyond the network's reach" in stats["flow_fallback"]
    yy, xx = np.mgrid[:160, :256]
    for t, f in zip(times, frames):
        xt = start_x + (end_x - start_x) * t
        on_path = (xx - xt) ** 2 + (yy - y) ** 2 <= (r + 10) ** 2
        fill = color_mask(f, RED)
        outline = f[..., :3].astype(int).sum(-1) < 200
        assert not (fill & ~on_path).any(), f"t={t}: {(fill & ~on_path).sum()} fill px off the path"
        assert not (outline & ~on_path).any(), f"t={t}: {(outline & ~on_path).sum()} outline px off the path"
        if end_x < 256 + r:  # still partly in the picture at B: it must be drawn, not faded
            assert fill.sum() > 1500, f"t={t}: the disc is missing"


def _crossing_strokes(angle: float, dx: float) -> np.ndarray:
    img = canvas((255, 255, 255))
    c = np.array([256.0 + dx, 160.0])
    for th in (angle, angle + 70.0):
        d = np.array([np.cos(np.radians(th)), np.sin(np.radians(th))]) * 110
        p, q = np.round(c - d).astype(int), np.round(c + d).astype(int)
        cv2.line(img, (int(p[0]), int(p[1])), (int(q[0]), int(q[1])), (20, 20, 30, 255), 3, cv2.LINE_AA)
    return img


def test_crossing_strokes_stay_lines(rife_models, client):
    """Two crossing strokes move and turn: in-betweens have about as much ink as a key (within
    25%): no doubled lines (more ink), no washed-out ones (less)."""
    a, b = _crossing_strokes(10.0, -60.0), _crossing_strokes(40.0, 60.0)
    times = [0.25, 0.5, 0.75]
    frames, stats, _ = run_job(client, a, b, times, rife_models)
    assert stats["flow_path"] == "learned"

    def ink(img: np.ndarray) -> int:
        return int((img[..., :3].astype(int).sum(-1) < 384).sum())

    keys = (ink(a) + ink(b)) / 2
    for t, f in zip(times, frames):
        assert abs(ink(f) - keys) <= 0.25 * keys, (t, ink(f), keys)


def test_stretched_and_rotated_parts(rife_models, client):
    # a bar stretched from 120 to 240 px: 180 px at the middle, one piece
    a = bar(canvas(), (256, 160), 120, 40, 0.0, BLUE)
    b = bar(canvas(), (256, 160), 240, 40, 0.0, BLUE)
    (mid,), stats, _ = run_job(client, a, b, [0.5], rife_models)
    assert stats["flow_path"] == "learned"
    m = color_mask(mid, BLUE)
    truth = color_mask(bar(canvas(), (256, 160), 180, 40, 0.0, BLUE), BLUE)
    assert (m & truth).sum() / (m | truth).sum() > 0.9
    assert components(m) == 1
    # a bar turned by 50 degrees: about 25 at the middle, one piece
    a = bar(canvas(), (256, 160), 200, 30, 0.0, BLUE)
    b = bar(canvas(), (256, 160), 200, 30, 50.0, BLUE)
    (mid,), _, _ = run_job(client, a, b, [0.5], rife_models)
    m = color_mask(mid, BLUE)
    angle = principal_angle_deg(m)
    assert abs(angle - 25.0) < 7.0, angle
    overlap = iou(m, color_mask(bar(canvas(), (256, 160), 200, 30, 25.0, BLUE), BLUE))
    assert overlap > 0.6, overlap  # the classical path reaches 0.7 on this; RIFE's flows are softer
    assert components(m) == 1


def test_large_canvas_full_size_frames_and_progress_first(rife_models, client):
    """2560x1600 keys: the network works on a reduced copy, frames come out full size, and a
    progress event arrives before the first frame (the user sees the job move)."""
    w, h = 2560, 1600
    a = np.zeros((h, w, 4), np.uint8)
    a[..., :3], a[..., 3] = 240, 255
    b = a.copy()
    for img, x in ((a, 1100), (b, 1300)):  # 200 px here, 80 px at the network's work size
        cv2.circle(img, (x, 800), 200, RED + (255,), -1, cv2.LINE_AA)
        cv2.circle(img, (x, 800), 200, (20, 20, 30, 255), 8, cv2.LINE_AA)
    frames, stats, events = run_job(client, a, b, [0.5], rife_models)
    assert stats["flow_path"] == "learned"
    assert frames[0].shape == (h, w, 4)
    kinds = [type(e) for e in events]
    assert Progress in kinds and Frame in kinds
    assert kinds.index(Progress) < kinds.index(Frame)
    assert color_mask(frames[0], RED).sum() > 0.5 * np.pi * 200 ** 2


def test_the_classical_path_does_not_import_torch():
    """torch takes seconds to import: the flow backend and its path choice must not pull it in
    until the learned path is really taken."""
    code = ("import sys; import engine.backends.flow.backend as b; "
            "from engine.backends.flow import path_choice as p; p.choose(None, '/nonexistent'); "
            "print('torch' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                       env=dict(os.environ), timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"


def test_the_engine_warms_the_learned_path_at_start_and_answers_status_meanwhile(rife_models, tmp_path):
    """An engine with the weights in its models folder loads the net in the background as it
    starts; status requests during that import are answered (a real window once lost its
    engine here: status read the half-imported runtime module and the connection dropped)."""
    from inbetween_client.launcher import start_engine

    env = dict(os.environ, INBETWEEN_MODELS_DIR=str(rife_models))
    proc = start_engine([sys.executable, "-m", "engine"], tmp_path / "engine.json",
                        args=["--device", "cpu"], env=env)
    try:
        c = EngineClient.connect(proc.info, client_name="pytest")
        try:
            seen = []
            deadline = time.monotonic() + 120  # a wait, not a speed check
            while time.monotonic() < deadline:
                seen.append(c.status().get("loaded_models", {}))
                if "flow" in seen[-1]:
                    break
                time.sleep(0.02)
            assert "flow" in seen[-1], seen[-3:]  # loaded without any job asking
            assert "rife" in seen[-1]["flow"][0]
            (frame,), stats, _ = run_job(c, disc(canvas(), (180, 160), 40, BLUE),
                                         disc(canvas(), (220, 160), 40, BLUE), [0.5], None)
            assert stats["flow_path"] == "learned"
        finally:
            c.close()
    finally:
        proc.stop()


def test_a_motion_beyond_the_network_goes_to_the_classical_path_not_an_empty_frame(rife_models, tmp_path):
    """The bundled sample's character crosses most of the canvas: RIFE's network returns empty
    middle frames there. The learned path checks its middle frame and hands the segment to the
    classical path, which keeps the character, and says so."""
    sample = REPO / "resources" / "sample"
    s = interpolate_json(sample / "key_a.png", sample / "key_b.png", tmp_path / "o", "--inbetweens", "5",
                         "--model-dir", str(rife_models))
    assert s["flow_path"] == "classical"
    assert "beyond the network's reach" in s["flow_fallback"]
    key_cover = read_png(sample / "key_a.png")[..., 3].astype(float).sum()
    for k in range(1, 6):
        cover = read_png(tmp_path / "o" / f"frame_{k:04d}.png")[..., 3].astype(float).sum()
        assert cover > 0.6 * key_cover, (k, cover / key_cover)
