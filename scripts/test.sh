#!/usr/bin/env bash
# Installs everything the tests need in .venv and runs them. Extra arguments go to pytest
# (e.g. `./scripts/test.sh -m "not krita"` for a quick run).
#
# torch is pinned to 2.13.0: on the project's machines that is a local CPU wheel; set
# INBETWEEN_NO_TORCH=1 to skip it (the ToonCrafter tests then skip with a reason).
source "$(dirname "$0")/_venv.sh"
cd "$ROOT"
if [ -z "${INBETWEEN_NO_TORCH:-}" ]; then
  pip_q torch==2.13.0
  pip_q -e ".[test,tooncrafter,animate_anyone,studio]"
else
  pip_q -e ".[test,studio]"
fi
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
exec "$VENV/bin/python" -m pytest "$@"
