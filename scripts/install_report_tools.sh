#!/usr/bin/env bash
# Installs the report page builder's npm packages (tools/report/package-lock.json: umap-js,
# playwright-core) with `npm ci`, only when the lock file changed since the last install.
# Needs node and npm (Debian's nodejs; scripts/install_deps.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/../tools/report"
if ! command -v npm > /dev/null; then
  # Debian's own nodejs ships npm as a separate package.
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q npm
fi
stamp=node_modules/.sgatlin-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2> /dev/null)" != "$want" ]; then
  npm ci --no-audit --no-fund
  echo "$want" > "$stamp"
fi
