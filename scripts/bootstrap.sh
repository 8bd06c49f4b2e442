#!/usr/bin/env bash
# Install everything the portal needs on a fresh clone: system libraries, a virtualenv, the
# portal and its unit plugins, compiled translations.   Usage: scripts/bootstrap.sh [run|test]
set -euo pipefail
cd "$(dirname "$0")/.."
purpose="${1:-run}"

# --- system packages --------------------------------------------------------------------------
# WeasyPrint needs Pango and HarfBuzz (fonts ship with the project); the tests also drive Debian's
# Chromium and read PDFs and QR codes with poppler and zbar.
need_pkgs=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 shared-mime-info)
need_cmds=()
if [[ "$purpose" == "test" ]]; then
  need_pkgs+=(chromium poppler-utils zbar-tools)
fi
missing=()
for pkg in "${need_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if command -v apt-get >/dev/null && [[ $(id -u) -eq 0 ]]; then
    echo "Installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "Missing system packages: ${missing[*]}" >&2
    echo "Install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

# --- Python -----------------------------------------------------------------------------------
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3
"$python" -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
if [[ ! -x .venv/bin/python ]]; then
  "$python" -m venv .venv
fi
extras=""
[[ "$purpose" == "test" ]] && extras="[test]"
stamp=".venv/.installed${extras}"
inputs=$(cat setup.cfg plugins/*/setup.cfg | sha256sum | cut -d' ' -f1)
installed() { [[ -f "$1" && "$(cat "$1")" == "$inputs" ]]; }
# An install with the test extras also serves `make run`.
if ! installed "$stamp" && ! { [[ -z "$extras" ]] && installed ".venv/.installed[test]"; }; then
  echo "Installing the portal and its unit plugins into .venv"
  .venv/bin/pip install --quiet --disable-pip-version-check -e ".${extras}" $(printf -- '-e %s ' plugins/*/) \
    2> >(grep -v "WARNING: Location" >&2)
  echo "$inputs" > "$stamp"
fi

# --- translations -----------------------------------------------------------------------------
.venv/bin/python scripts/i18n.py compile >/dev/null
