"""Contact sheet of interpolated poses on a celanim clip: truth / arc / linear, every frame.

Each row is one clip's nine frames (keys 0 and 8 at the ends) with a skeleton drawn over the
frame by the engine's pose renderer (the image Animate Anyone would see, blended on the drawing):
the true pose, then the poses interpolated from the keys' poses only with the `arc` rule and
with `linear` chords. Times follow the clip's timing chart (`s_root`).

    .venv/bin/python bench/pose_sheet.py --clips clip_004 clip_012 --out /tmp/pose_sheet.png
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.poses.render import render_pose  # noqa: E402
from inbetween_client.pose_interpolation import pose_at  # noqa: E402
from inbetween_client.poses import PoseTrack, TimedPose  # noqa: E402


def overlay(frame_path: Path, pose, w: int, h: int) -> np.ndarray:
    frame = cv2.cvtColor(cv2.imread(str(frame_path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    skel = render_pose(pose, w, h)
    mask = skel.any(axis=2, keepdims=True)
    return np.where(mask, skel, (frame * 0.5 + 127).astype(np.uint8))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "bench" / "celanim")
    ap.add_argument("--clips", nargs="+", default=["clip_012"])
    ap.add_argument("--posed", default="0,8", help="frames whose poses are given (default: the keys)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    posed = [int(k) for k in args.posed.split(",")]
    rows = []
    for name in args.clips:
        clip = args.data / name
        track = PoseTrack.read(clip / "poses.json")
        w, h = track.size
        s = json.loads((clip / "meta.json").read_text())["timing"]["s_root"]
        given = [TimedPose(s[k], track.poses[k].pose, k) for k in posed]
        for label, method in (("truth", None), ("arc", "arc"), ("linear", "linear")):
            tiles = []
            for k, truth in enumerate(track.poses):
                p = truth.pose if method is None else pose_at(given, s[k], method)
                tile = overlay(clip / f"frame_{k}.png", p, w, h)
                cv2.putText(tile, f"{name} {label} f{k}", (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                            (0, 0, 0), 1, cv2.LINE_AA)
                tiles.append(tile)
            rows.append(np.concatenate(tiles, axis=1))
    sheet = np.concatenate(rows, axis=0)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    print(f"wrote {args.out} ({sheet.shape[1]}x{sheet.shape[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
