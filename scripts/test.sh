#!/usr/bin/env bash
# The project's one test command:  bash scripts/test.sh [pytest args...]
#   1. installs requirements-dev.txt (skipped in about a second when every pin is already installed)
#   2. installs Debian's chromium for the browser tests if /usr/bin/chromium is missing
#   3. runs python -m pytest with your arguments
# It starts no services. Postgres/Redis tests use PG_ADMIN_URL / TEST_REDIS_URL (defaults:
# postgresql+psycopg://postgres@127.0.0.1:5432/test and redis://127.0.0.1:6379) and skip when those
# are unreachable, unless REQUIRE_SERVICES=1 (then they fail). PYTHON=... picks the interpreter.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-python}"

pins_satisfied() {
  # Exit 0 only if every name==version in requirements-dev.txt (and the files it includes), with the
  # packages its extras pull in, is installed. Anything unexpected: exit 1 and let pip decide.
  "$PYTHON" - <<'PY' 2>/dev/null
import sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from packaging.requirements import Requirement

def lines(path):
    for raw in Path(path).read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("-r"):
            yield from lines(Path(path).parent / line[2:].strip())
        elif line:
            yield line

for line in lines("requirements-dev.txt"):
    req = Requirement(line)
    dist = distribution(req.name)  # PackageNotFoundError -> not satisfied
    if dist.version not in req.specifier:
        sys.exit(1)
    for extra in req.extras:
        for dep in map(Requirement, dist.requires or []):
            if dep.marker and dep.marker.evaluate({"extra": extra}) and not dep.marker.evaluate({"extra": ""}):
                if distribution(dep.name).version not in dep.specifier:
                    sys.exit(1)
PY
}

if pins_satisfied; then
  echo "test.sh: requirements-dev.txt already satisfied"
else
  echo "test.sh: installing requirements-dev.txt ..."
  "$PYTHON" -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
fi

if [ ! -x /usr/bin/chromium ]; then
  echo "test.sh: /usr/bin/chromium is missing; installing Debian's chromium for the browser tests ..."
  if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    echo "test.sh: cannot install chromium: not root and no password-less sudo." >&2
    echo "         Run as root:  apt-get update && apt-get install -y chromium" >&2
    exit 1
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: cannot install chromium: apt-get not found (Debian/Ubuntu expected)." >&2
    echo "         Install a Chromium at /usr/bin/chromium, then run this again." >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq chromium >/dev/null
  if [ ! -x /usr/bin/chromium ]; then
    echo "test.sh: apt-get finished but /usr/bin/chromium is still missing." >&2
    exit 1
  fi
fi

exec "$PYTHON" -m pytest "$@"
