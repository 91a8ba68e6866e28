"""`inbetween-engine status`: is an engine running, where, and what is it doing."""

from __future__ import annotations

import argparse
import json

from inbetween_client.client import EngineClient
from inbetween_client.connection import default_connection_file, read_connection_file
from inbetween_client.errors import ClientError

from .common import add_connection_args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="whether an engine runs, its pid, address, queue and models")
    p.add_argument("--json", action="store_true")
    add_connection_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    path = args.connection_file or default_connection_file()
    info = read_connection_file(path)
    status = None
    reason = f"no connection file at {path}"
    if info is not None:
        try:
            with EngineClient.connect(info, timeout=15.0, client_name="inbetween-cli") as c:
                status = c.status()
        except ClientError as exc:
            reason = f"the connection file names pid {info.pid} at {info.address}, but {exc}"
    if status is None:
        if args.json:
            print(json.dumps({"alive": False, "reason": reason}))
        else:
            print(f"no engine is running ({reason})")
        return 1
    status = {k: v for k, v in status.items() if k != "ref"}
    if args.json:
        print(json.dumps({"alive": True, **status}))
        return 0
    print(f"engine {status['engine_version']} running: pid {status['pid']} at {status['address']}, "
          f"device {status['device']}, up {status['uptime_s']:.0f} s, {status['clients']} client(s)")
    for r in status["running"]:
        print(f"  running  {r['job']} {r['backend']} {r['frames']} frame(s) for {r['client']}")
    for q in status["queue"]:
        print(f"  queued   {q['job']} {q['backend']} {q['frames']} frame(s) for {q['client']} "
              f"(position {q['position']})")
    if not status["running"] and not status["queue"]:
        print("  queue empty")
    loaded = status.get("loaded_models") or {}
    print("  loaded models: " + (", ".join(f"{b}: {', '.join(m)}" for b, m in loaded.items()) or "none"))
    return 0
