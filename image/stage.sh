#!/usr/bin/env bash
# stage.sh: the image's build context, made on the host. npm cannot fetch inside the image build
# (the build sees none of the host's CA certificates), so the package is packed here from the
# working tree, installed globally into <context>/rootfs/usr/local with production
# dependencies only (the built dist/: no tsx, no TypeScript at run time), and copied in whole.
#
# usage: stage.sh CONTEXT_DIR      (prints the package version on stdout's last line)
# The checkout's own dist/ is left alone: the pack runs in a copy of the working tree.
set -euo pipefail
umask 022

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CONTEXT=${1:?usage: stage.sh CONTEXT_DIR}

log() { printf 'image: %s\n' "$*" >&2; }
die() { printf 'image: error: %s\n' "$*" >&2; exit 1; }

[ -d "$ROOT/node_modules" ] || die "no node_modules: run make deps first"
rm -rf "$CONTEXT"
mkdir -p "$CONTEXT/src" "$CONTEXT/rootfs/usr/local"

# The working tree as git sees it (tracked and new files, ignored ones left out), so an
# uncommitted change is what gets built.
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard) |
    (cd "$ROOT" && xargs -0 cp --parents -P -t "$CONTEXT/src" 2>/dev/null || true)
[ -f "$CONTEXT/src/package.json" ] || die "could not copy the working tree"
cp -a "$ROOT/node_modules" "$CONTEXT/src/node_modules"

log "packing the package (npm pack: builds dist/)"
tarball=$(cd "$CONTEXT/src" && npm pack --silent --pack-destination "$CONTEXT" | tail -n 1)
[ -f "$CONTEXT/$tarball" ] || die "npm pack produced no tarball"

log "installing $tarball with production dependencies into the image's /usr/local"
npm install --global --prefix "$CONTEXT/rootfs/usr/local" --omit=dev --no-audit --no-fund \
    --loglevel=error "$CONTEXT/$tarball" >&2
pkg=$CONTEXT/rootfs/usr/local/lib/node_modules/bpfkit
[ -x "$pkg/dist/bin/bpfkit.js" ] || die "installed package has no dist/bin/bpfkit.js"
# npm links man pages into share/man; the image keeps none.
rm -rf "$CONTEXT/rootfs/usr/local/share/man" "$CONTEXT/src"
rm -f "$CONTEXT/$tarball"
node -p "require('$pkg/package.json').version"
