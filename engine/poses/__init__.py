"""Poses on the engine side: the pose images a pose-guided model sees (`render`).

The pose format, validation and interpolation live in the client library
(`inbetween_client.poses`, `inbetween_client.pose_interpolation`, standard library only), so
the engine, the desktop app and the Krita plugin share one definition of each.
"""

from .render import DwPose, draw_pose, render_pose, to_dwpose

__all__ = ["DwPose", "draw_pose", "render_pose", "to_dwpose"]
