#!/usr/bin/env bash
# Installs the Debian 12 packages Dovira needs to build, test and run. Idempotent: installs only
# what is missing, and runs `apt-get update` at most once per call.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ccache
  clang-14 libclang-rt-14-dev clang-format clang-tidy
  tzdata
  libtomlplusplus-dev libcli11-dev nlohmann-json3-dev libfmt-dev libspdlog-dev
  libhowardhinnant-date-dev
  libsqlite3-dev sqlite3 libsodium-dev liboath-dev libboost-dev libcurl4-openssl-dev
  libpq-dev postgresql-15
  wrk
  libgtest-dev libgmock-dev libbenchmark-dev python3-jsonschema
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
# The web build and its browser tests (web/): Node.js with npm, and Chromium. A Node.js that
# already brings its own npm (another Debian source) is kept rather than replaced.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ -x /usr/bin/chromium ] || missing+=(chromium)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
