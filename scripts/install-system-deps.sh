#!/usr/bin/env bash
# Debian packages the end-to-end tests drive: a real Neovim, Emacs with eglot, Chromium for VS Code (code-server),
# and Mesa's Vulkan CPU driver (lavapipe) so naga validates with the widest feature set.
# Installs only what is missing; needs root (or sudo) the first time.
set -euo pipefail

packages=(neovim emacs-nox elpa-eglot mesa-vulkan-drivers chromium ripgrep libkrb5-dev libsecret-1-dev libxkbfile-dev libx11-dev pkg-config make g++ python3)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then SUDO=sudo; else
        echo "install-system-deps: need root to install: ${missing[*]}" >&2
        echo "  run: apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
else
    SUDO=
fi
echo "install-system-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
