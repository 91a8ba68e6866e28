#!/usr/bin/env bash
# Build what users download: the one-folder app `dist/inbetween-studio/` (executables
# `inbetween-studio` and `inbetween-engine`, made by build.spec with PyInstaller) and the Krita
# plugin zip `dist/inbetween_krita-krita-plugin.zip`. Prints the bundle's size and build time.
#
#   ./scripts/build.sh           "lite" build: in its own virtual environment (build/venv-lite,
#                                or $INBETWEEN_LITE_VENV) that has the app's dependencies and
#                                no torch; the generative backend's code is bundled, its runtime
#                                is not
#   ./scripts/build.sh --full    "full" build: with the current environment ($PYTHON, default
#                                .venv/bin/python), which must have torch; torch is bundled
#
# Other options: --no-krita (skip the plugin zip), --dist DIR (output folder, default dist/).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FLAVOR=lite
KRITA=1
DIST="$ROOT/dist"
while [ $# -gt 0 ]; do
  case "$1" in
    --full) FLAVOR=full ;;
    --lite) FLAVOR=lite ;;
    --no-krita) KRITA=0 ;;
    --dist) DIST="$(mkdir -p "$2" && cd "$2" && pwd)"; shift ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
cd "$ROOT"
T0=$(date +%s)

if [ "$FLAVOR" = lite ]; then
  VENV="${INBETWEEN_LITE_VENV:-$ROOT/build/venv-lite}"
  # The lite venv gets the project's own dependencies (base + studio + build extras, read from
  # pyproject.toml by pip) but not the project itself: build.spec takes the sources from this
  # checkout. A stamp skips the (network) install when pyproject.toml has not changed.
  STAMP="$VENV/.inbetween-build-stamp"
  WANT="$(sha256sum pyproject.toml | cut -d' ' -f1)"
  if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
    echo "== preparing the lite build environment in $VENV"
    source "$ROOT/scripts/_venv.sh"  # creates $VENV, defines pip_q
    pip_q ".[studio,build]"
    "$VENV/bin/python" -m pip uninstall -q -y inbetween-suite
    echo "$WANT" >"$STAMP"
  fi
  PY="$VENV/bin/python"
  if "$PY" -c "import torch" 2>/dev/null; then
    echo "error: $VENV has torch; a lite build must not (remove the venv and build again)" >&2
    exit 1
  fi
else
  PY="${PYTHON:-$ROOT/.venv/bin/python}"
  if ! "$PY" -c "import torch" 2>/dev/null; then
    echo "error: --full needs torch in $PY (install the 'tooncrafter' extra first)" >&2
    exit 1
  fi
  if ! "$PY" -c "import PyInstaller" 2>/dev/null; then
    "$PY" -m pip install -q "pyinstaller>=6.10"
  fi
fi
T1=$(date +%s)

echo "== PyInstaller ($FLAVOR build) with $("$PY" -c 'import sys; print(sys.version.split()[0])')"
INBETWEEN_BUILD_FLAVOR="$FLAVOR" "$PY" -m PyInstaller --noconfirm --log-level WARN \
  --distpath "$DIST" --workpath "$ROOT/build/pyinstaller-$FLAVOR" "$ROOT/build.spec"
T2=$(date +%s)

if [ "$KRITA" = 1 ]; then
  echo "== Krita plugin"
  "$PY" "$ROOT/scripts/build_krita_plugin.py" --out-dir "$DIST"
fi
T3=$(date +%s)

BUNDLE="$DIST/inbetween-studio"
"$BUNDLE/inbetween-engine" --version
SIZE_MB=$(du -sm "$BUNDLE" | cut -f1)
FILES=$(find "$BUNDLE" -type f | wc -l)
echo "== built $BUNDLE ($FLAVOR)"
echo "bundle size: ${SIZE_MB} MiB in ${FILES} files"
if [ -f "$DIST/inbetween_krita-krita-plugin.zip" ] && [ "$KRITA" = 1 ]; then
  echo "krita plugin: $DIST/inbetween_krita-krita-plugin.zip ($(du -k "$DIST/inbetween_krita-krita-plugin.zip" | cut -f1) KiB)"
fi
echo "build time: $((T3 - T0)) s (environment $((T1 - T0)) s, PyInstaller $((T2 - T1)) s, Krita zip $((T3 - T2)) s)"
