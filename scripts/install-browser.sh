#!/usr/bin/env bash
# Installs Debian's Chromium for the portal tests when it is missing. Playwright drives
# it; `playwright install` cannot download browsers on machines without internet.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-browser: chromium is missing and installing it needs root (apt-get install chromium)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
command -v chromium >/dev/null || { echo "install-browser: chromium did not install" >&2; exit 1; }
