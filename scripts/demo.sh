#!/usr/bin/env bash
# Fresh machine to in-betweens in one command: installs the project in .venv (no GPU, no
# weights needed) and in-betweens the bundled sample shot into out/demo/ as PNG frames.
source "$(dirname "$0")/_venv.sh"
cd "$ROOT"
pip_q -e .
OUT="${1:-$ROOT/out/demo}"
"$VENV/bin/inbetween-engine" interpolate \
  resources/sample/key_a.png resources/sample/key_b.png \
  --out "$OUT" --inbetweens 14 --sketch 7=resources/sample/sketch_mid.png
echo "frames in $OUT (frame_0000.png and frame_0015.png are the keys)"
