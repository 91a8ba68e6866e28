"""`inbetween-engine serve`: run the engine in the foreground until Ctrl+C / SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
from pathlib import Path

from inbetween_client.connection import read_connection_file, pid_alive

from ..errors import EngineError
from ..paths import default_connection_file, default_models_dir
from .common import fail, setup_logging

log = logging.getLogger("engine")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the engine in the foreground")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    p.add_argument("--port", type=int, default=0, help="TCP port (default 0: any free port)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default auto)")
    p.add_argument("--model-dir", type=Path, default=None, help="models folder (default: per-user data dir)")
    p.add_argument("--connection-file", type=Path, default=None,
                   help="where to write the connection file (default: per-user state dir)")
    p.add_argument("--tls-cert", default=None, help="TLS certificate (required off loopback)")
    p.add_argument("--tls-key", default=None, help="TLS private key (required off loopback)")
    p.add_argument("--parent-pid", type=int, default=None, metavar="PID",
                   help="stop once process PID is gone (and no client is connected any more): an app "
                        "that starts the engine passes its own pid, so the engine never outlives it, "
                        "even when the app is killed")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=run)


PARENT_POLL_S = 0.5


def parent_gone_check(pid: int):
    """A function telling whether `pid` has gone. For our direct parent a change of
    `os.getppid()` says it (immune to pid reuse: an orphan is re-parented); for another
    process (the engine started through a wrapper) the pid must stop existing."""
    direct = os.getppid() == pid

    def gone() -> bool:
        return os.getppid() != pid if direct else not pid_alive(pid)

    return gone


async def watch_parent(server, pid: int, poll_s: float = PARENT_POLL_S) -> None:
    """Stop the engine once its parent app is gone and no client uses the engine.

    The app's own connection drops with the app (the kernel closes its socket even on
    SIGKILL); another client still connected (Krita) keeps the engine until it leaves, so its
    job is not cut short."""
    gone = parent_gone_check(pid)
    announced = False
    while True:
        await asyncio.sleep(poll_s)
        if not gone():
            continue
        if server.sessions:
            if not announced:
                log.info("parent process %d is gone; stopping when the %d connected client(s) leave",
                         pid, len(server.sessions))
                announced = True
            continue
        log.info("parent process %d is gone: stopping", pid)
        server.request_stop()
        return


def resolve_device(requested: str) -> str:
    """`auto` picks CUDA when torch is installed and sees a GPU; the CPU otherwise."""
    if requested == "cpu":
        return "cpu"
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        if requested != "auto":
            raise EngineError(f"device {requested!r} needs torch, which is not installed")
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda" if requested == "auto" else requested
    if requested != "auto":
        raise EngineError(f"device {requested!r} is not available: torch sees no CUDA device")
    return "cpu"


def _engine_already_running(path: Path) -> str | None:
    """A message if a live engine answers at the address of the connection file."""
    info = read_connection_file(path)
    if info is None or not pid_alive(info.pid):
        return None
    try:
        # a port that accepts connections with the file's pid alive is an engine, even if busy
        socket.create_connection((info.host, info.port), timeout=5.0).close()
    except OSError:
        return None
    return f"an engine already runs (pid {info.pid} at {info.address}); stop it first"


def run(args: argparse.Namespace) -> int:
    from ..server import EngineServer, ServerConfig

    connection_file = args.connection_file or default_connection_file()
    # the log sits next to the connection file: a private engine (started by `interpolate`)
    # must not rotate the shared engine's log from a second process
    setup_logging(args.verbose, connection_file.parent / "engine.log")
    running = _engine_already_running(connection_file)
    if running:
        return fail(running)
    try:
        device = resolve_device(args.device)
        config = ServerConfig(
            host=args.host, port=args.port, device=device,
            models_dir=str(args.model_dir or default_models_dir()),
            connection_file=connection_file,
            tls_cert=args.tls_cert, tls_key=args.tls_key,
        )
        server = EngineServer(config)
    except EngineError as exc:
        return fail(exc.message)

    async def main() -> None:
        await server.start()
        server.install_signal_handlers()
        log.info("connection file: %s", connection_file)
        watcher = None
        if args.parent_pid is not None:
            watcher = asyncio.get_running_loop().create_task(watch_parent(server, args.parent_pid))
        await server.run_until_stopped()
        if watcher is not None:
            watcher.cancel()

    try:
        asyncio.run(main())
    except OSError as exc:
        return fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
    return 0
