"""Helpers shared by the CLI subcommands."""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import sys
from pathlib import Path

import numpy as np


def add_connection_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--connection-file", type=Path, default=None,
                   help="engine connection file (default: the per-user state dir)")


def fail(message: str, code: int = 1) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def setup_logging(verbose: bool, log_file: Path | None) -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        try:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            # an engine runs for days: keep the log bounded
            handlers.append(logging.handlers.RotatingFileHandler(
                log_file, maxBytes=2 << 20, backupCount=2, encoding="utf-8"))
        except OSError:
            pass
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )


def rgba_bytes_to_png(data: bytes, width: int, height: int) -> bytes:
    from ..images import encode_png

    return encode_png(np.frombuffer(data, np.uint8).reshape(height, width, 4))


class ProgressBar:
    """A one-line bar on a terminal's stderr; silent when stderr is not a terminal."""

    def __init__(self, label: str, enabled: bool | None = None, width: int = 30) -> None:
        self.label = label
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.width = width
        self._shown = False

    def update(self, fraction: float, stage: str = "", eta_s: float | None = None) -> None:
        if not self.enabled:
            return
        filled = int(round(fraction * self.width))
        eta = f" eta {eta_s:4.1f}s" if eta_s is not None else ""
        line = f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {fraction * 100:5.1f}%{eta} {stage}"
        sys.stderr.write(line[:120].ljust(80))
        sys.stderr.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown:
            sys.stderr.write("\n")
            sys.stderr.flush()
