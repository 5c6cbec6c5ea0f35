#!/usr/bin/env bash
# Installs Kannel (bearerbox, smsbox) and kannel-extras (the fake SMSC used by the
# e2e tests) from the system's configured apt sources. Does nothing when both are
# already there, so it is safe to run before every test session.
set -euo pipefail

FAKESMSC=/usr/lib/kannel/test/fakesmsc

installed() {
    { command -v bearerbox >/dev/null 2>&1 || [ -x /usr/sbin/bearerbox ]; } && [ -x "$FAKESMSC" ]
}

if installed; then
    echo "Kannel is already installed."
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-kannel: apt-get not found; install the Debian/Ubuntu packages" \
        "'kannel' and 'kannel-extras' by hand." >&2
    exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-kannel: must run as root (or with sudo available)." >&2
        exit 1
    fi
fi

echo "Installing kannel and kannel-extras with apt-get..."
if ! $SUDO apt-get update; then
    echo "install-kannel: 'apt-get update' failed." >&2
    exit 1
fi
if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    kannel kannel-extras; then
    echo "install-kannel: 'apt-get install kannel kannel-extras' failed." >&2
    exit 1
fi

if ! installed; then
    echo "install-kannel: packages installed but bearerbox or $FAKESMSC is still missing." >&2
    exit 1
fi
echo "Kannel installed."
