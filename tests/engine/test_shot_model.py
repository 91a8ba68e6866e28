"""The shot request model: validation rules and segment/time computation (no engine process)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import ShotError
from engine.request import shot_from_wire
from engine.shot import Shot
from engine.timing import Timing
from inbetween_client.images import ImageData
from inbetween_client.shot import ShotRequest
from tests.imaging import disc_image, png_bytes


def _rgba(w=64, h=48, value=255):
    return np.full((h, w, 4), value, np.uint8)


def _decode(req: ShotRequest):
    msg = req.to_message()
    return shot_from_wire(msg.fields["shot"], msg.blobs)


def test_segments_times_and_sketches():
    shot = Shot(64, 48, keys={0: _rgba(), 4: _rgba(), 10: _rgba()}, sketches={2: _rgba()},
                timing={4: Timing("ease-in")})
    segs = shot.segments()
    assert [(s.start, s.end) for s in segs] == [(0, 4), (4, 10)]
    assert segs[0].times == [0.25, 0.5, 0.75]
    assert segs[0].sketches.keys() == {1}
    assert segs[1].times == pytest.approx([(i / 6) ** 2 for i in range(1, 6)])
    assert shot.inbetween_count == 8


def test_exposure_on_twos_draws_every_other_frame_and_reports_holds():
    shot = Shot(64, 48, keys={0: _rgba(), 8: _rgba()}, exposure=2)
    assert [ib.frame for ib in shot.segments()[0].inbetweens] == [2, 4, 6]
    assert shot.held_frames() == {1: 0, 3: 2, 5: 4, 7: 6}
    with pytest.raises(ShotError, match="hold"):
        Shot(64, 48, keys={0: _rgba(), 8: _rgba()}, sketches={3: _rgba()}, exposure=2)


@pytest.mark.parametrize("kwargs,match", [
    (dict(keys={0: _rgba()}), "two or more keyframes"),
    (dict(keys={0: _rgba(), 1: _rgba()}), "nothing to in-between"),
    (dict(keys={0: _rgba(), 5: _rgba()}, sketches={0: _rgba()}), "on a keyframe"),
    (dict(keys={0: _rgba(), 5: _rgba()}, sketches={9: _rgba()}), "outside the shot"),
    (dict(keys={0: _rgba(), 5: _rgba(32, 48)}), "same size"),
    (dict(keys={0: _rgba(), 5: _rgba()}, timing={0: Timing("bouncy")}), "unknown curve"),
    (dict(keys={0: _rgba(), 5: _rgba()}, timing={0: Timing(times=(0.5, 0.2, 0.7, 0.9))}), "increase"),
    (dict(keys={0: _rgba(), 5: _rgba()}, timing={0: Timing(times=(0.5,))}), "1 explicit times for 4"),
    (dict(keys={0: _rgba(), 5: _rgba()}, timing={0: Timing(times=(0.0, 0.2, 0.7, 1.0))}), r"in \(0, 1\)"),
    (dict(keys={0: _rgba(), 5: _rgba()}, exposure=0), "exposure"),
])
def test_invalid_shots_name_the_problem(kwargs, match):
    with pytest.raises(ShotError, match=match):
        Shot(64, 48, **kwargs)


def test_wire_round_trip_with_png_and_raw_rgba():
    a, b = disc_image(), disc_image(center=(90, 48))
    req = ShotRequest.between(ImageData.png(png_bytes(a)), ImageData.rgba(b.tobytes(), 128, 96),
                              inbetweens=3, timing="ease-out",
                              sketches={2: ImageData.png(png_bytes(disc_image(center=(60, 48))))})
    shot, output = _decode(req)
    assert np.array_equal(shot.keys[0], a) and np.array_equal(shot.keys[4], b)
    assert list(shot.sketches) == [2]
    assert output.encoding == "rgba"


def test_wire_errors():
    a = ImageData.png(png_bytes(disc_image()))
    corrupt = ImageData(png_bytes(disc_image())[:60] + b"\x00" * 50, "png", 128, 96)
    with pytest.raises(ShotError, match="key at frame 4: corrupt PNG"):
        _decode(ShotRequest.between(a, corrupt, inbetweens=3))
    with pytest.raises(ShotError, match="not a PNG"):
        _decode(ShotRequest.between(a, ImageData(b"GIF89a....", "png", 1, 1), inbetweens=3))
    small = ImageData.png(png_bytes(disc_image(64, 48, center=(20, 20))))
    with pytest.raises(ShotError, match="same size"):
        _decode(ShotRequest.between(a, small, inbetweens=3))
    with pytest.raises(ShotError, match="options.seed"):
        _decode(ShotRequest.between(a, a, inbetweens=3, options={"seed": "x"}))
    with pytest.raises(ShotError, match="'shot' must be an object"):
        shot_from_wire([1, 2], [])
    with pytest.raises(ShotError, match="blob 7 was not sent"):
        shot_from_wire({"width": 4, "height": 4, "keys": [{"frame": 0, "blob": 7}]}, [])


def test_size_limit_is_checked_before_decoding():
    # a 1-row PNG header that claims 100000 x 100000 pixels: refused from the header alone
    huge = bytearray(png_bytes(disc_image()))
    huge[16:24] = (100000).to_bytes(4, "big") * 2
    req = ShotRequest.between(ImageData(bytes(huge), "png", 100000, 100000),
                              ImageData(bytes(huge), "png", 100000, 100000), inbetweens=1)
    with pytest.raises(ShotError, match="over the size limit"):
        _decode(req)
