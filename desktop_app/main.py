"""Entry point: `inbetween-studio [PROJECT_OR_IMAGES...]` (or `python -m desktop_app`).

Opens an empty shot, a project, or images (several PNGs: a sequence of keys; `--gap N`
spaces them with N empty in-betweens), connects to the user's engine or starts one in the
background, and offers to recover autosaved work left by a crash.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from inbetween_client import PROTOCOL_VERSION, __version__


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="inbetween-studio", description="Timeline app for in-betweening 2D animation.")
    ap.add_argument("--version", action="version",
                    version=f"inbetween-studio {__version__} (protocol {PROTOCOL_VERSION})")
    ap.add_argument("paths", nargs="*", help="a project (folder, project.json, .ibproj) or PNG images")
    ap.add_argument("--gap", type=int, default=None,
                    help="empty in-betweens between imported images (default: 7 for 2-3 images, else 0)")
    ap.add_argument("--no-engine", action="store_true", help="do not connect to or start the engine")
    ap.add_argument("--engine-command", default=os.environ.get("INBETWEEN_ENGINE_COMMAND"),
                    help="how to start the engine if none runs (default: this Python -m engine)")
    ap.add_argument("--engine-args", default="", help="extra arguments for `engine serve`, e.g. '--device cpu'")
    return ap.parse_args(argv)


def build(args: argparse.Namespace):
    """Create the application (if needed) and the window, open what was asked, start the
    engine link; returns (app, window). Split from `main` so tests can run it without exec()."""
    from PySide6.QtWidgets import QApplication

    from . import theme
    from .io import project
    from .main_window import APP_NAME, MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName("inbetween")
    theme.apply(app)
    win = MainWindow()
    win.show()
    paths = [Path(p) for p in args.paths]
    projects = [p for p in paths if project.is_project_path(p)]
    if projects:
        win.open_path(projects[0])
    elif paths:
        gap = args.gap if args.gap is not None else (7 if len(paths) <= 3 else 0)
        win.open_images(paths, gap)
        win.offer_recovery(None)
    else:
        win.offer_recovery(None)
    if not args.no_engine:
        command = shlex.split(args.engine_command) if args.engine_command else None
        win.link.start(command=command, args=shlex.split(args.engine_args))
    else:
        win.link.stateChanged.emit("Engine: not used (--no-engine) — drawing and export work")
    return app, win


def quit_on_signals(app) -> None:
    """SIGTERM and SIGINT (a session logout, Ctrl+C in a terminal, a test) close the windows
    like File > Quit, so the engine this app started is stopped and the exit is clean."""
    import signal

    from PySide6.QtCore import QTimer

    def handler(_signum, _frame) -> None:
        QTimer.singleShot(0, app.closeAllWindows)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handler)
    wake = QTimer(app)  # Python runs signal handlers only between bytecodes: wake it up now and then
    wake.timeout.connect(lambda: None)
    wake.start(200)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    app, _win = build(args)
    quit_on_signals(app)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
