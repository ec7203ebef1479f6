#!/usr/bin/env bash
# deps.sh: set up this machine to build and run bpfkit (run by `make deps`).
#
# Works on a fresh Debian/Ubuntu machine (no libbcc, no kernel headers, tracefs
# not mounted) and is idempotent: when everything is in place a run only
# checks and takes well under 2 s. Every step prints one short line.
#
#   a. root check          (apt, mount and the cache under /var need root)
#   b. apt packages        libbpfcc (libbcc.so.0) + gcc make iproute2 util-linux
#   c. node packages       npm ci when node_modules is missing or stale
#   d. kernel headers      scripts/kernel-headers.sh
#   e. tracefs             mounted at /sys/kernel/tracing (or debugfs fallback)
#   f. summary line
#
# Env: BPFKIT_CACHE_DIR (cache base, default /var/cache/bpfkit).
set -euo pipefail
umask 022
export LC_ALL=C

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KREL=$(uname -r)
CACHE_BASE=$(realpath -m "${BPFKIT_CACHE_DIR:-/var/cache/bpfkit}")
APT_STAMP="$CACHE_BASE/apt-update.stamp"

log() { printf 'deps: %s\n' "$*"; }
die() { printf 'deps: error: %s\n' "$*" >&2; exit 1; }

# --- a. root -------------------------------------------------------------------

if [ "$(id -u)" -ne 0 ]; then
    echo "deps.sh: must be run as root (it installs packages and mounts tracefs); try: sudo make deps" >&2
    exit 2
fi

# shellcheck source=apt.sh
source "$REPO/scripts/apt.sh"

# --- b. apt packages ----------------------------------------------------------------

# libbpfcc = libbcc.so.0, loaded by lib/bcc-node-bindings. The others are used
# by the tests (gcc builds test programs, ip/unshare set up namespaces).
# bpfcc-tools/bpftrace are NOT installed here: the benchmark has its own step.
ensure_packages libbpfcc gcc make iproute2 util-linux

# --- c. node packages ---------------------------------------------------------------

# Node itself is a prerequisite of the machine image, not installed here.
command -v node >/dev/null && command -v npm >/dev/null || die "node (>= 18) and npm are required"
node_major=$(node --version | sed -E 's/^v([0-9]+).*/\1/')
[ "$node_major" -ge 18 ] || die "node >= 18 is required (found $(node --version))"

[ -f "$REPO/package.json" ] || die "no package.json in $REPO (is this script inside the bpfkit repo?)"
# npm ci wipes node_modules, so a stamp inside it records a completed install;
# re-run when the lock file changed after that.
STAMP="$REPO/node_modules/.bpfkit-npm-ci.stamp"
NPM_OPTS=(--no-audit --no-fund --loglevel=error)
if [ ! -f "$REPO/package-lock.json" ]; then
    (cd "$REPO" && npm install "${NPM_OPTS[@]}" >/dev/null)
    touch "$STAMP"
    log "npm install done (no package-lock.json: created one)"
elif [ ! -f "$STAMP" ] || [ "$REPO/package-lock.json" -nt "$STAMP" ]; then
    (cd "$REPO" && npm ci "${NPM_OPTS[@]}" >/dev/null)   # stdout is only a summary
    touch "$STAMP"
    log "npm ci done"
else
    log "node_modules up to date"
fi

# --- d. kernel headers --------------------------------------------------------------

bash "$REPO/scripts/kernel-headers.sh"

# --- e. tracefs ----------------------------------------------------------------------

# Tracepoints and kprobe events are created through tracefs; libbcc looks at
# /sys/kernel/debug/tracing first, then /sys/kernel/tracing.
if [ -d /sys/kernel/tracing/events ]; then
    TRACEFS=/sys/kernel/tracing
    log "tracefs present: $TRACEFS"
elif mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null && [ -d /sys/kernel/tracing/events ]; then
    TRACEFS=/sys/kernel/tracing
    log "mounted tracefs on $TRACEFS"
else
    # Old kernels (< 4.1) only have it inside debugfs (auto-mounted there).
    TRACEFS=/sys/kernel/debug/tracing
    if [ -d "$TRACEFS/events" ]; then
        log "tracefs present: $TRACEFS"
    else
        mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug ||
            die "cannot mount tracefs on /sys/kernel/tracing nor debugfs on /sys/kernel/debug"
        [ -d "$TRACEFS/events" ] || die "no tracefs: neither /sys/kernel/tracing nor $TRACEFS has events/"
        log "mounted debugfs on /sys/kernel/debug (tracefs at $TRACEFS)"
    fi
fi

# --- f. summary ----------------------------------------------------------------------

if [ -e "/lib/modules/$KREL/build/include/linux/kconfig.h" ]; then
    headers="/lib/modules/$KREL/build"
elif [ -e /sys/kernel/kheaders.tar.xz ]; then
    headers=/sys/kernel/kheaders.tar.xz
else
    desc="$CACHE_BASE/kernel-headers/$KREL.json"
    [ -f "$desc" ] || die "kernel-headers.sh left no headers and no $desc"
    headers="$(sed -n 's/.*"path":"\([^"]*\)".*/\1/p' "$desc") (for $KREL via BCC_KERNEL_SOURCE)"
fi
log "ready: libbcc $(dpkg-query -W -f='${Version}' libbpfcc), headers $headers, tracefs $TRACEFS"
