# Sourced by the set-up scripts: make (or reuse) the project's virtual environment in $VENV.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
  if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
    # Debian splits venv out of the interpreter package
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
      rm -rf "$VENV"
      "$PYTHON" -m venv "$VENV"
    else
      echo "error: '$PYTHON -m venv' failed; install your distribution's python3-venv package" >&2
      exit 1
    fi
  fi
fi

# pip install, silent when it works, with its full output and a failure when it does not
pip_q() {
  local log
  log="$(mktemp)"
  if ! "$VENV/bin/python" -m pip install -q "$@" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "error: pip install $* failed" >&2
    exit 1
  fi
  rm -f "$log"
}
pip_q --upgrade pip
