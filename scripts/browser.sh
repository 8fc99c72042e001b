#!/usr/bin/env bash
# Makes sure a headless Chromium and its WebDriver (/usr/bin/chromedriver, for the
# selenium tests) are installed for tests/e2e (Debian's packages).
# Prints nothing on success; exits non-zero when no browser can be had, and the
# browser tests then skip with a reason.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && [ -x /usr/bin/chromedriver ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "scripts/browser.sh: no chromium/chromedriver, and no root apt-get to install them" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 || {
  apt-get update -qq >/dev/null 2>&1
  apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1
}
command -v chromium >/dev/null 2>&1 && [ -x /usr/bin/chromedriver ]
