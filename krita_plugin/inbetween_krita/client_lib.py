"""The engine client library, from the copy bundled in the plugin zip or, in the repo, the source.

The build script copies `inbetween_client` into `inbetween_krita/vendor/` so the installed plugin
is self-contained (Krita's Python has nothing but the standard library and Qt). In the source
tree there is no `vendor/` folder and the top-level package is used, which is what the unit
tests run against. The vendored copy always wins, so an installed plugin never picks up some
other version that happens to be on Krita's path.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType


def _load_package() -> ModuleType:
    vendor = f"{__package__}.vendor"
    if importlib.util.find_spec(vendor) is not None:
        return importlib.import_module(f"{vendor}.inbetween_client")
    return importlib.import_module("inbetween_client")


_pkg = _load_package()
_client = importlib.import_module(f"{_pkg.__name__}.client")
_shot = importlib.import_module(f"{_pkg.__name__}.shot")
_images = importlib.import_module(f"{_pkg.__name__}.images")
_errors = importlib.import_module(f"{_pkg.__name__}.errors")
_launcher = importlib.import_module(f"{_pkg.__name__}.launcher")
_connection = importlib.import_module(f"{_pkg.__name__}.connection")
atomic = importlib.import_module(f"{_pkg.__name__}.atomic")
poses = importlib.import_module(f"{_pkg.__name__}.poses")
pose_interpolation = importlib.import_module(f"{_pkg.__name__}.pose_interpolation")
timing = importlib.import_module(f"{_pkg.__name__}.timing")
_done_notes = importlib.import_module(f"{_pkg.__name__}.done_notes")

PACKAGE_NAME: str = _pkg.__name__
VENDORED: bool = PACKAGE_NAME != "inbetween_client"
CLIENT_VERSION: str = _pkg.__version__
PROTOCOL_VERSION: int = _pkg.PROTOCOL_VERSION

EngineClient = _client.EngineClient
Job = _client.Job
Queued = _client.Queued
Started = _client.Started
Progress = _client.Progress
Frame = _client.Frame
Done = _client.Done
Failed = _client.Failed
ShotRequest = _shot.ShotRequest
ImageData = _images.ImageData
bgra_to_rgba = _images.bgra_to_rgba
rgba_to_bgra = _images.rgba_to_bgra
ClientError = _errors.ClientError
EngineNotRunning = _errors.EngineNotRunning
ConnectionLost = _errors.ConnectionLost
RemoteError = _errors.RemoteError
JobCancelledError = _errors.JobCancelledError
EngineStoppedError = _errors.EngineStoppedError
ErrorCode = _errors.ErrorCode
start_engine = _launcher.start_engine
EngineProcess = _launcher.EngineProcess
default_connection_file = _connection.default_connection_file
read_connection_file = _connection.read_connection_file
pid_alive = _connection.pid_alive
Pose = poses.Pose
PoseError = poses.PoseError
PoseTrack = poses.PoseTrack
TimedPose = poses.TimedPose
BODY_JOINTS = poses.BODY_JOINTS
pose_at = pose_interpolation.pose_at
done_notes = _done_notes.done_notes
