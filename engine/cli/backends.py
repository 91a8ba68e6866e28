"""`inbetween-engine backends`: which backends exist and whether each can run here."""

from __future__ import annotations

import argparse
import json

from inbetween_client.client import EngineClient
from inbetween_client.connection import read_connection_file
from inbetween_client.errors import ClientError

from .common import add_connection_args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("backends", help="list backends and whether each is available")
    p.add_argument("--json", action="store_true")
    p.add_argument("--device", default="cpu", help="device to check against when no engine runs")
    add_connection_args(p)
    p.set_defaults(func=run)


def _from_running_engine(args: argparse.Namespace) -> list[dict] | None:
    info = read_connection_file(args.connection_file)
    if info is None:
        return None
    try:
        with EngineClient.connect(info, timeout=15.0, client_name="inbetween-cli") as c:
            return c.capabilities.get("backends", [])
    except ClientError:
        return None


def _local(args: argparse.Namespace) -> list[dict]:
    from ..backends.base import EngineConfig
    from ..backends.registry import BackendRegistry
    from ..paths import default_models_dir
    from .serve import resolve_device

    try:
        device = resolve_device(args.device)
    except Exception:  # noqa: BLE001 - an unusable device still lets us list the backends
        device = "cpu"
    return BackendRegistry(EngineConfig(device=device, models_dir=str(default_models_dir()))).describe_all()


def run(args: argparse.Namespace) -> int:
    backends = _from_running_engine(args)
    source = "running engine"
    if backends is None:
        backends, source = _local(args), "this machine (no engine running)"
    if args.json:
        print(json.dumps({"source": source, "backends": backends}))
        return 0
    print(f"backends of {source}:")
    width = max([12] + [len(b["name"]) + 1 for b in backends])
    for b in backends:
        state = "available" if b.get("available") else "unavailable"
        detail = b.get("description", "") if b.get("available") else b.get("reason", "")
        print(f"  {b['name']:<{width}} {state:<12} {detail}")
    return 0
