"""`inbetween-engine interpolate`: in-between two PNG keys into a folder of PNG frames."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from inbetween_client.atomic import write_bytes
from inbetween_client.client import Frame
from inbetween_client.errors import ClientError, RemoteError
from inbetween_client.images import ImageData
from inbetween_client.launcher import connect_or_start
from inbetween_client.poses import TIME_TOLERANCE, PoseError, PoseTrack
from inbetween_client.shot import ShotRequest
from inbetween_client.timing import segment_times

from ..timing import TIMING_CURVES
from .common import ProgressBar, add_connection_args, fail, rgba_bytes_to_png


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("interpolate", help="make in-betweens of two keys (PNG) into a folder")
    p.add_argument("key_a", type=Path, help="first key (PNG)")
    p.add_argument("key_b", type=Path, help="last key (PNG)")
    p.add_argument("--out", type=Path, required=True, help="output folder (frame_0000.png ...)")
    count = p.add_mutually_exclusive_group(required=True)
    count.add_argument("--inbetweens", type=int, help="number of in-betweens between the keys")
    count.add_argument("--times", help="explicit in-between times in (0, 1), comma separated")
    p.add_argument("--backend", default="flow", help="backend name (see `inbetween-engine backends`)")
    p.add_argument("--sketch", action="append", default=[], metavar="K=PATH",
                   help="sketch (PNG) for in-between K (1-based); repeatable")
    p.add_argument("--timing", default="linear", choices=list(TIMING_CURVES))
    p.add_argument("--poses", type=Path, default=None, metavar="FILE",
                   help="pose skeletons (poses.json: openpose-coco18 at times t, 0 = key A, "
                        "1 = key B; see docs/poses.md), each matched to the shot by its t")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=None, help="denoising steps (generative backends)")
    p.add_argument("--model-dir", type=Path, default=None, help="models folder for this job")
    p.add_argument("--no-learned", action="store_true",
                   help="flow: use the classical path even where the learned one is installed")
    p.add_argument("--preview", action="store_true",
                   help="flow: fast preview; poses move the network's flows near the bones "
                        "instead of carrying each part whole (about RIFE's speed)")
    p.add_argument("--json", action="store_true", help="print a JSON summary instead of a line")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_connection_args(p)
    p.set_defaults(func=run)


def _read_png(path: Path, what: str) -> ImageData:
    try:
        return ImageData.from_file(str(path))
    except FileNotFoundError:
        raise ValueError(f"{what} {path}: no such file") from None
    except IsADirectoryError:
        raise ValueError(f"{what} {path}: is a folder, not a PNG file") from None
    except ValueError:
        raise ValueError(f"{what} {path}: not a PNG file") from None
    except OSError as exc:
        raise ValueError(f"{what} {path}: {exc.strerror or exc}") from None


def _parse_times(text: str) -> list[float]:
    try:
        times = [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise ValueError(f"--times must be numbers separated by commas, got {text!r}") from None
    if not times:
        raise ValueError("--times needs at least one time")
    return times


def _parse_sketches(specs: list[str], count: int) -> dict[int, ImageData]:
    out: dict[int, ImageData] = {}
    for spec in specs:
        k, sep, path = spec.partition("=")
        if not sep or not k.strip().isdigit():
            raise ValueError(f"--sketch must look like K=PATH (K = in-between number), got {spec!r}")
        k_int = int(k)
        if not 1 <= k_int <= count:
            raise ValueError(f"--sketch {spec}: in-between {k_int} does not exist (1..{count})")
        out[k_int] = _read_png(Path(path), f"sketch {k_int}")
    return out


def build_request(args: argparse.Namespace) -> ShotRequest:
    if args.inbetweens is not None and args.inbetweens < 1:
        raise ValueError(f"--inbetweens must be at least 1, got {args.inbetweens}")
    times = _parse_times(args.times) if args.times is not None else None
    count = len(times) if times is not None else args.inbetweens
    key_a = _read_png(args.key_a, "key A")
    key_b = _read_png(args.key_b, "key B")
    options: dict = {"seed": args.seed}
    if args.steps is not None:
        options["steps"] = args.steps
    if args.model_dir is not None:
        options["model_dir"] = str(args.model_dir.resolve())
    if args.no_learned:
        options["learned"] = False
    if args.preview:
        options["preview"] = True
    poses = None
    if args.poses is not None:
        try:
            poses = PoseTrack.read(args.poses)
        except PoseError as exc:
            raise ValueError(f"--poses {exc}") from None
    return ShotRequest.between(
        key_a, key_b, inbetweens=None if times else count, times=times, timing=args.timing,
        sketches=_parse_sketches(args.sketch, count), backend=args.backend, options=options,
        poses=poses,
    )


def _pose_summary(request: ShotRequest, backends: list[dict]) -> dict | None:
    """How the poses landed on the shot (keys, in-betweens, guide times) and whether they are used."""
    track = request.poses.get(0)
    if track is None:
        return None
    last = max(request.keys)
    spec = request.timing.get(0, "linear")
    times = [t for _, t in (segment_times(0, last, spec) if isinstance(spec, str)
                            else segment_times(0, last, times=list(spec)))]
    on_keys = sum(1 for p in track.poses if p.t < TIME_TOLERANCE or p.t > 1.0 - TIME_TOLERANCE)
    on_inbetweens = sum(1 for p in track.poses if any(abs(p.t - t) < TIME_TOLERANCE for t in times))
    info = next((b for b in backends if b.get("name") == request.backend), {})
    used = bool(info.get("supports_poses"))
    out = {"given": len(track.poses), "keys": on_keys, "inbetweens": on_inbetweens,
           "guides": len(track.poses) - on_keys - on_inbetweens, "used": used}
    if not used:
        out["note"] = f"poses given but backend {request.backend} does not use them yet"
    return out


def run(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    try:
        request = build_request(args)
    except ValueError as exc:
        return fail(str(exc), 2)
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return fail(f"cannot create the output folder {args.out}: {exc.strerror or exc}")
    last = max(request.keys)
    bar = ProgressBar(f"{request.backend}", enabled=False if args.no_progress or args.json else None)
    engine = None
    client = None
    try:
        device = "cpu" if request.backend == "flow" else "auto"
        client, engine = connect_or_start(args=["--device", device], client_name="inbetween-cli",
                                          connection_file=args.connection_file, private=True)
        job = client.submit(request)
        pose_summary = _pose_summary(request, client.capabilities.get("backends", []))
        written: list[Path] = []

        def on_frame(frame: Frame) -> None:
            if frame.preview:
                return
            data = frame.data if frame.encoding == "png" else rgba_bytes_to_png(
                frame.data, frame.width, frame.height)
            path = args.out / f"frame_{frame.frame:04d}.png"
            write_bytes(path, data)
            written.append(path)

        result = job.wait(on_progress=lambda p: bar.update(p.fraction, p.stage, p.eta_s),
                          on_frame=on_frame)
    except RemoteError as exc:
        bar.close()
        return fail(exc.message)
    except ClientError as exc:
        bar.close()
        return fail(str(exc))
    except OSError as exc:
        bar.close()
        return fail(f"cannot write frames to {args.out}: {exc.strerror or exc}")
    finally:
        if client is not None:
            client.close()
        if engine is not None:
            engine.stop()
    bar.close()
    # keys are copied byte for byte: the engine never re-encodes them
    for frame in (0, last):
        write_bytes(args.out / f"frame_{frame:04d}.png", request.keys[frame].data)
    elapsed = time.perf_counter() - t0
    frames = sorted(args.out / f"frame_{f:04d}.png" for f in [0, last, *result.frames])
    summary = {
        "out": str(args.out),
        "backend": request.backend,
        "inbetweens": len(result.frames),
        "frames": [str(p) for p in frames],
        "seconds": round(elapsed, 3),
        "engine_stats": result.stats,
        "engine_started": engine is not None,
        # time inside the backend alone (no protocol, PNG or start-up cost): what benchmarks read
        "backend_s": result.stats.get("backend_s"),
    }
    for note in ("flow_path", "flow_poses", "flow_hint", "flow_fallback"):
        if note in result.stats:
            summary[note] = result.stats[note]
    if pose_summary is not None:
        engine_says = result.stats.get("poses")  # the backend may follow poses on one path only
        if isinstance(engine_says, dict) and "used" in engine_says:
            pose_summary["used"] = bool(engine_says["used"])
            if pose_summary["used"]:
                pose_summary.pop("note", None)
            else:
                why = engine_says.get("why_not")
                pose_summary["note"] = (f"poses given but backend {request.backend} does not use them"
                                        + (f" ({why})" if why else " yet"))
        summary["poses"] = pose_summary
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"wrote {len(frames)} frames ({len(result.frames)} in-betweens, {request.backend}) "
              f"to {args.out} in {elapsed:.2f} s")
        if "flow_path" in result.stats:
            print(f"flow path: {result.stats['flow_path']}"
                  + (f", poses by {result.stats['flow_poses']}" if "flow_poses" in result.stats else ""))
        for note in ("flow_hint", "flow_fallback"):
            if note in result.stats:
                print(f"note: {result.stats[note]}")
        if pose_summary is not None:
            p = pose_summary
            print(f"poses: {p['given']} ({p['keys']} on keys, {p['inbetweens']} on in-betweens, "
                  f"{p['guides']} at other times)" + (f"; {p['note']}" if "note" in p else ""))
    sys.stdout.flush()
    return 0
