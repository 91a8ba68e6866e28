"""`inbetween-engine`: serve the engine, or use it from the command line.

Each subcommand lives in its own module exposing `register(subparsers)`; this module only
assembles them, so a backend family can add its commands (e.g. `models`) without touching
the others.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from inbetween_client import PROTOCOL_VERSION, __version__

SUBCOMMANDS = ("serve", "interpolate", "backends", "status", "models")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="inbetween-engine",
        description="The in-betweening engine: one local process that holds the models and serves jobs.",
    )
    parser.add_argument("--version", action="version",
                        version=f"inbetween-engine {__version__} (protocol {PROTOCOL_VERSION})")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"engine.cli.{name}")
        except ImportError as exc:
            if exc.name != f"engine.cli.{name}":
                raise
            continue  # a subcommand module not shipped in this build
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
