"""Side-by-side quality benchmark of the `flow` backend against RIFE 4.0, DIS and cross-fade.

Runs `../shared/eval/evalbench.py` (the shared harness: LPIPS, chamfer, stray%, lost%, seconds
per in-between; it runs RIFE 4.0 itself) once per data set and case, with the peers and the
project's CLI in the same run, then writes markdown tables and contact sheets.

    bash ../shared/eval/setup_eval.sh          # once: /tmp/eval-venv, /tmp/eval-peers
    python bench/quality.py                     # all sets and cases, tables into docs/flow.md
    python bench/quality.py --sets celanim --cases mid --limit 6 --no-doc   # a quick look

Sets: `celanim` (synthetic cel colour), `lineart` (the same clips as clean line art), `anidoc`
(real anime colour frames; internal use only, so its frames never go into docs/: its contact
sheets stay in --out). Cases: `mid` (middle frame from the keys), `all` (every in-between),
`sketch` (every in-between, the project also gets the middle sketch; rows sketched/others),
`mid+poses` (the project gets every frame's true skeleton), `mid+keyposes` (the keys'
skeletons only) and `mid+poses+preview` (every frame's skeleton, the fast preview setting);
the peers never get sketches or poses.
The real anime set has only `mid` (frame i+1 from i and i+2).

The CLI runs with one thread, as the peers do; `cli s/inb` is the time inside the backend
(`backend_s` of the CLI's --json output), `s/inb` the whole CLI call with the engine's start.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SETS = {
    "celanim": SHARED / "bench" / "celanim",
    "lineart": SHARED / "bench" / "celanim_lineart",
    "anidoc": SHARED / "bench" / "real" / "anidoc",
}
#: Sets whose frames may be copied into the repository's docs (synthetic data only).
PUBLISHABLE = {"celanim", "lineart"}
CASES = ("mid", "all", "sketch", "mid+poses", "mid+keyposes", "mid+poses+preview")
#: Pose cases: the project gets every frame's true skeleton (`poses`) or the keys' only
#: (`keyposes`, in-between poses interpolated by the engine); the peers get none.
POSE_SETS = {"celanim", "lineart"}
PEERS = ("dis", "rife")
PROJECT = "project:flow"
METRICS = (("lpips", "LPIPS", "{:.4f}"), ("cd", "chamfer", "{:.2f}"), ("stray", "stray%", "{:.2f}"),
           ("lost", "lost%", "{:.2f}"), ("s_per_inbetween", "s/inb", "{:.3f}"),
           ("cli_s_per_inbetween", "cli s/inb", "{:.3f}"))
DOC_START, DOC_END = "<!-- bench:start -->", "<!-- bench:end -->"


def load_rgba(path: Path) -> np.ndarray:
    """Any PNG as RGBA uint8 (gray and RGB get an opaque alpha)."""
    im = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if im is None:
        raise FileNotFoundError(path)
    if im.ndim == 2:
        im = cv2.cvtColor(im, cv2.COLOR_GRAY2BGR)
    if im.shape[2] == 3:
        im = np.dstack([im, np.full(im.shape[:2], 255, np.uint8)])
    return cv2.cvtColor(im, cv2.COLOR_BGRA2RGBA)


def _default_models() -> Path | None:
    cache = ROOT / ".cache" / "models"
    return cache if (cache / "rife" / "flownet.pkl").is_file() else None


def run_eval(args: argparse.Namespace, name: str, case: str) -> dict:
    """One evalbench run (peers and project together); its JSON, cached in --out."""
    out = args.out / f"{name}_{case}.json"
    if out.exists() and args.reuse:
        return json.loads(out.read_text())
    base, *extras = case.split("+")
    poses = next((e for e in extras if e in ("poses", "keyposes")), "")
    project = shlex.quote(str(args.cli))
    if poses == "keyposes":
        project = f"{shlex.quote(sys.executable)} {shlex.quote(str(ROOT / 'bench' / 'keyposes_cli.py'))} {project}"
    cmd = [args.eval_python, str(SHARED / "eval" / "evalbench.py"), "--data", str(SETS[name]),
           "--case", base, "--threads", "1", "--json", str(out), "--quiet",
           "--save", str(args.out / "frames" / f"{name}_{case}"),
           "--project-cmd", project]
    if poses:
        cmd += ["--project-args", "--poses {poses}" + (" --preview" if "preview" in extras else "")]
    for m in (*PEERS, PROJECT):
        cmd += ["--method", m]
    if args.limit:
        cmd += ["--limit", str(args.limit)]
    env = dict(os.environ)
    if args.model_dir is not None:  # where the CLI finds RIFE's weights (else: the classical path)
        env["INBETWEEN_MODELS_DIR"] = str(args.model_dir)
    print("$", shlex.join(cmd), file=sys.stderr, flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT, env=env)
    return json.loads(out.read_text())


def table(result: dict) -> str:
    """Markdown: one row per (bucket, frames, method), buckets then ALL."""
    rows: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    for r in result["records"]:
        if "error" in r:
            continue
        for group in (r["group"], "ALL"):
            rows[(group, r["cls"], r["method"])].append(r)
    methods = result["methods"]
    groups = sorted({g for g, _, _ in rows if g != "ALL"}) + ["ALL"]
    classes = sorted({c for _, c, _ in rows})
    head = "| bucket | frames | method | n | " + " | ".join(t for _, t, _ in METRICS) + " |"
    lines = [head, "|" + "---|" * (4 + len(METRICS))]
    for g in groups:
        for c in classes:
            for m in methods:
                rs = rows.get((g, c, m))
                if not rs:
                    continue
                cells = []
                for key, _, fmt in METRICS:
                    vals = [r[key] for r in rs if isinstance(r.get(key), (int, float))]
                    cells.append(fmt.format(float(np.median(vals) if key.endswith("inbetween")
                                                  else np.mean(vals))) if vals else "-")
                label = "**flow**" if m == PROJECT else m
                lines.append(f"| {g} | {c} | {label} | {len(rs)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def contact_sheets(args: argparse.Namespace, name: str, case: str, result: dict, dest: Path) -> list[Path]:
    """Per bucket, two clips: ground truth | flow | RIFE at full size, one row per clip."""
    frames = args.out / "frames" / f"{name}_{case}"
    by_group: dict[str, list[dict]] = defaultdict(list)
    for r in result["records"]:
        if r["method"] == PROJECT and "error" not in r and (case != "sketch" or r["cls"] == "sketched"):
            by_group[r["group"]].append(r)
    written = []
    for group, rs in sorted(by_group.items()):
        rs = sorted(rs, key=lambda r: r["lpips"])
        picks = [rs[len(rs) // 2], rs[-1]] if len(rs) > 1 else rs  # a typical one and the worst
        rows = []
        for r in picks:
            sample = r["sample"].replace("@", "_")
            gt_dir = SETS[name] / r["sample"].split("@")[0]
            gt = _ground_truth(gt_dir, r)
            ours = cv2.imread(str(frames / PROJECT.replace(":", "_") / sample / f"frame_{r['frame']}.png"))
            rife = cv2.imread(str(frames / "rife" / sample / f"frame_{r['frame']}.png"))
            if gt is None or ours is None or rife is None:
                continue
            rows.append(np.hstack([_label(gt, f"truth {r['sample']} #{r['frame']}"),
                                   _label(ours, f"flow LPIPS {r['lpips']:.3f}"),
                                   _label(rife, f"RIFE 4.0 {_peer_lpips(result, r):.3f}")]))
        if rows:
            width = max(x.shape[1] for x in rows)
            rows = [np.pad(x, ((0, 0), (0, width - x.shape[1]), (0, 0)), constant_values=255) for x in rows]
            path = dest / f"sheet_{name}_{case.replace('+', '_')}_{group}.png"
            dest.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(path), np.vstack(rows))
            written.append(path)
    return written


def _ground_truth(clip_dir: Path, r: dict) -> np.ndarray | None:
    # a clip's target is frame N of its folder; a sequence sample "clip@i" targets image i + N
    index = r["frame"] + (int(r["sample"].split("@")[1]) if "@" in r["sample"] else 0)
    for cand in sorted(clip_dir.glob("frame_*.png")):
        digits = cand.stem.split("_")[-1]
        if digits.isdigit() and int(digits) == index:
            im = cv2.imread(str(cand), cv2.IMREAD_UNCHANGED)
            if im is not None and im.ndim == 2:  # line art is stored grey
                im = cv2.cvtColor(im, cv2.COLOR_GRAY2BGR)
            if im is not None and im.ndim == 3 and im.shape[2] == 4:
                a = im[..., 3:4].astype(np.float32) / 255.0
                im = (im[..., :3] * a + 255 * (1 - a)).astype(np.uint8)
            return im
    return None


def _peer_lpips(result: dict, ours: dict) -> float:
    for r in result["records"]:
        if (r["method"] == "rife" and r["sample"] == ours["sample"] and r["frame"] == ours["frame"]
                and "lpips" in r):
            return r["lpips"]
    return float("nan")


def _label(img: np.ndarray, text: str) -> np.ndarray:
    img = img.copy()
    cv2.putText(img, text, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 3, cv2.LINE_AA)
    cv2.putText(img, text, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 160), 1, cv2.LINE_AA)
    return img


def sample_sheet(args: argparse.Namespace, dest: Path) -> Path | None:
    """The bundled sample shot (what demo.sh shows): keys and 5 in-betweens in a row, without
    and (second row) with the sample's sketch at the middle in-between."""
    sample = ROOT / "resources" / "sample"
    keys = [sample / "key_a.png", sample / "key_b.png"]
    if not all(k.exists() for k in keys):
        return None
    sketch = sample / "sketch_mid.png"
    rows = []
    for extra in ([], ["--sketch", f"3={sketch}"] if sketch.exists() else None):
        if extra is None:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [str(args.cli), "interpolate", str(keys[0]), str(keys[1]), "--out", tmp,
                   "--inbetweens", "5", "--json", *extra]
            env = dict(os.environ, OMP_NUM_THREADS="1")
            subprocess.run(cmd, check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
            frames = [load_rgba(p) for p in sorted(Path(tmp).glob("frame_*.png"))]
        checker = _checker(frames[0].shape[:2])
        rows.append(np.hstack([(f[..., :3] * (f[..., 3:4] / 255.0)
                                + checker * (1 - f[..., 3:4] / 255.0)).astype(np.uint8)
                               for f in frames]))
    path = dest / "sample_shot.png"
    dest.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR))
    return path


def _checker(shape: tuple[int, int], cell: int = 16) -> np.ndarray:
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    v = np.where(((yy // cell) + (xx // cell)) % 2 == 0, 235, 200).astype(np.float32)
    return np.repeat(v[..., None], 3, 2)


def write_doc(doc: Path, body: str) -> None:
    text = doc.read_text()
    if DOC_START in text and DOC_END in text:
        pre, rest = text.split(DOC_START, 1)
        post = rest.split(DOC_END, 1)[1]
        text = pre + DOC_START + "\n" + body + "\n" + DOC_END + post
    else:
        text = text.rstrip() + "\n\n" + DOC_START + "\n" + body + "\n" + DOC_END + "\n"
    tmp = doc.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(doc)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default=",".join(SETS), help="comma list of " + ", ".join(SETS))
    ap.add_argument("--cases", default=",".join(CASES), help="comma list of " + ", ".join(CASES))
    ap.add_argument("--limit", type=int, default=0, help="samples per run, spread over the set (0: all)")
    ap.add_argument("--eval-python", default="/tmp/eval-venv/bin/python")
    ap.add_argument("--cli", type=Path, default=ROOT / ".venv" / "bin" / "inbetween-engine")
    ap.add_argument("--out", type=Path, default=Path("/tmp/flow-bench"))
    ap.add_argument("--model-dir", type=Path, default=_default_models(),
                    help="models folder for the CLI (default: .cache/models when it holds RIFE's "
                         "weights, as scripts/test.sh fetches them; else the user's own)")
    ap.add_argument("--doc", type=Path, default=ROOT / "docs" / "flow.md")
    ap.add_argument("--no-doc", action="store_true", help="print the tables, leave docs/ alone")
    ap.add_argument("--reuse", action="store_true", help="reuse JSON results already in --out")
    args = ap.parse_args(argv)
    if not Path(args.eval_python).exists():
        print(f"{args.eval_python} missing: run bash ../shared/eval/setup_eval.sh first", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    sheets_dir = args.doc.parent / "flow"
    sections, sheets = [], []
    for name in args.sets.split(","):
        for case in args.cases.split(","):
            if name == "anidoc" and case != "mid" or "+" in case and name not in POSE_SETS:
                continue
            result = run_eval(args, name, case)
            sections.append(f"#### {name}, case `{case}` ({result['samples']} samples, "
                            f"{result['elapsed_s']:.0f} s)\n\n{table(result)}")
            dest = sheets_dir if name in PUBLISHABLE and not args.no_doc else args.out / "sheets"
            if case in ("mid", "sketch", "mid+poses", "mid+poses+preview"):
                sheets += contact_sheets(args, name, case, result, dest)
    sample = sample_sheet(args, sheets_dir if not args.no_doc else args.out / "sheets")
    if sample:
        sheets.append(sample)
    command = "python bench/quality.py" + (f" --limit {args.limit}" if args.limit else "") + \
        (f" --sets {args.sets}" if args.sets != ",".join(SETS) else "") + \
        (f" --cases {args.cases}" if args.cases != ",".join(CASES) else "")
    body = (f"`{command}` (evalbench, one thread per method; LPIPS AlexNet, chamfer x1e5 of the "
            f"diagonal, stray%/lost% as in ../shared/eval/README.md; `s/inb` is the whole call, "
            f"`cli s/inb` the time inside the backend)\n\n" + "\n\n".join(sections) +
            "\n\nContact sheets (truth | flow | RIFE 4.0, full size): " +
            ", ".join(f"`{p.relative_to(ROOT) if p.is_relative_to(ROOT) else p}`" for p in sheets))
    print(body)
    if not args.no_doc:
        write_doc(args.doc, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
