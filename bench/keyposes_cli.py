"""The project's CLI with only the keys' poses: for `bench/quality.py`'s "keys' poses" run.

evalbench hands every sample its full `poses.json` (`--project-args '--poses {poses}'`); this
wrapper keeps the poses at t = 0 and t = 1 (the keys) and runs the real CLI with those, so the
in-betweens' poses come from the engine's interpolation, as for an animator who posed the keys.

    python bench/keyposes_cli.py CLI interpolate ... --poses FILE ...
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path


def main(argv: list[str]) -> int:
    cli, args = argv[0], list(argv[1:])
    with tempfile.TemporaryDirectory() as tmp:
        if "--poses" in args:
            i = args.index("--poses") + 1
            data = json.loads(Path(args[i]).read_text())
            data["frames"] = [p for p in data["frames"] if p["t"] in (0, 1)]
            args[i] = str(Path(tmp) / "key_poses.json")
            Path(args[i]).write_text(json.dumps(data))
        return subprocess.run([cli, *args]).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
