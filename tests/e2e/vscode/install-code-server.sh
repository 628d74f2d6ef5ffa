#!/usr/bin/env bash
# Installs code-server (a real VS Code served to a browser) and playwright-core into
# .e2e/code-server for the VS Code end-to-end test. Idempotent: a finished install is kept
# (marked by .e2e/code-server/.installed-<version>) and reused by later runs.
#
# Works on a machine whose only outside access is the npm and Debian registries:
#  - native modules (node-pty, kerberos, spdlog, argon2...) build from source against the
#    Debian packages that scripts/install-system-deps.sh installs;
#  - node-pty's build runs `npx node-gyp`, so node-gyp is installed into the prefix first;
#  - @vscode/ripgrep downloads rg from a release page at install time; its download cache is
#    seeded with Debian's /usr/bin/rg so nothing is fetched;
#  - as root, code-server's postinstall refuses to run without npm_config_unsafe_perm=true;
#  - node-gyp fetches Node's headers from nodejs.org unless npm's nodedir points at them; the
#    headers that Debian's (and NodeSource's) nodejs package installs are used instead.
# Concurrent runs wait for each other (flock), so a test started during `make system-deps`
# does not install a second copy over the first.
set -euo pipefail

CODE_SERVER_VERSION=4.100.3
PLAYWRIGHT_VERSION=1.52.0
NODE_GYP_VERSION=11.2.0
RIPGREP_PACKAGE_VERSION=1.15.11
RIPGREP_ASSET=ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz

root="$(cd "$(dirname "$0")/../../.." && pwd)"
prefix="${CODE_SERVER_PREFIX:-$root/.e2e/code-server}"
# Native modules are built for one Node ABI: a different Node needs a fresh build.
node_abi="$(node -p 'process.versions.modules' 2>/dev/null || echo none)"
marker="$prefix/.installed-$CODE_SERVER_VERSION-$PLAYWRIGHT_VERSION-abi$node_abi"

installed() { [ -f "$marker" ] && [ -x "$prefix/node_modules/.bin/code-server" ]; }
installed && exit 0

mkdir -p "$prefix"
if command -v flock >/dev/null; then
    exec 9>"$prefix/.install.lock"
    flock 9
    installed && exit 0
fi

node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo none)"
if [ "$node_major" != 20 ]; then
    echo "install-code-server: code-server $CODE_SERVER_VERSION needs Node 20, found: $node_major" >&2
    exit 1
fi
for tool in rg make g++ pkg-config python3; do
    if ! command -v "$tool" >/dev/null; then
        echo "install-code-server: '$tool' is missing; run: bash scripts/install-system-deps.sh" >&2
        exit 1
    fi
done

node_prefix="$(dirname "$(dirname "$(command -v node)")")"
nodedir="${npm_config_nodedir:-$(npm config get nodedir 2>/dev/null || true)}"
if [ -z "$nodedir" ] || [ "$nodedir" = undefined ]; then
    if [ -f "$node_prefix/include/node/node_api.h" ]; then
        export npm_config_nodedir="$node_prefix"
    else
        echo "install-code-server: Node's headers are not in $node_prefix/include/node;" \
            "node-gyp will try to download them from nodejs.org" >&2
    fi
fi

# No marker: nothing installed, an interrupted install, or one built for another Node. npm
# would call a half-built tree "up to date" and skip the native builds, so start clean.
rm -rf "$prefix/node_modules" "$prefix/package-lock.json" "$prefix"/.installed-*
echo '{"name": "tiny-agent-e2e-editor", "private": true}' >"$prefix/package.json"

rg_tmp="$prefix/.tmp"
rg_cache="$rg_tmp/vscode-ripgrep-cache-$RIPGREP_PACKAGE_VERSION"
mkdir -p "$rg_cache/stage"
cp "$(command -v rg)" "$rg_cache/stage/rg"
tar czf "$rg_cache/$RIPGREP_ASSET" -C "$rg_cache/stage" rg
rm -rf "$rg_cache/stage"

export PATH="$prefix/node_modules/.bin:$PATH"
export npm_config_unsafe_perm=true
export npm_config_yes=true
export TMPDIR="$rg_tmp"

echo "install-code-server: installing node-gyp $NODE_GYP_VERSION into $prefix" >&2
npm install --prefix "$prefix" --no-save --no-audit --no-fund --no-update-notifier --loglevel=error "node-gyp@$NODE_GYP_VERSION"

echo "install-code-server: installing code-server $CODE_SERVER_VERSION and playwright-core $PLAYWRIGHT_VERSION (builds native modules; several minutes)" >&2
npm install --prefix "$prefix" --save-exact --no-audit --no-fund --no-update-notifier --loglevel=error \
    "code-server@$CODE_SERVER_VERSION" "playwright-core@$PLAYWRIGHT_VERSION" "node-gyp@$NODE_GYP_VERSION"

"$prefix/node_modules/.bin/code-server" --version >/dev/null
rm -f "$prefix"/.installed-*
touch "$marker"
echo "install-code-server: done" >&2
