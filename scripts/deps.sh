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

# --- apt helpers ------------------------------------------------------------------

APT_OPTS=(-o DPkg::Lock::Timeout=300)   # wait for apt-daily etc. instead of failing

# Lists are "fresh" when there are any and apt (or we) refreshed them in the
# last 24 h. apt rewrites lists/partial on every update; the list files keep
# the server's Last-Modified time, so they are not a usable clock.
apt_lists_fresh() {
    compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null || return 1
    [ -n "$(find /var/lib/apt/lists/partial "$APT_STAMP" -maxdepth 0 -mmin -1440 2>/dev/null)" ]
}

# At most once per run; the flag is exported so kernel-headers.sh skips it too.
apt_update() {
    [ "${BPFKIT_APT_UPDATED:-0}" = 1 ] && return 0
    log "refreshing apt lists (apt-get update)"
    # A broken third-party source must not stop us; whether the packages we
    # need became available is checked afterwards.
    apt-get "${APT_OPTS[@]}" -qq update || log "warning: apt-get update reported errors"
    mkdir -p "$CACHE_BASE" && touch "$APT_STAMP"
    export BPFKIT_APT_UPDATED=1
}

apt_candidate() {
    apt-cache policy "$1" 2>/dev/null | awk '$1 == "Candidate:" && $2 != "(none)" { print $2 }'
}

is_installed() {
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get "${APT_OPTS[@]}" -qq install -y --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" >/dev/null
}

# --- b. apt packages ----------------------------------------------------------------

# libbpfcc = libbcc.so.0, loaded by lib/bcc-node-bindings. The others are used
# by the tests (gcc builds test programs, ip/unshare set up namespaces).
# bpfcc-tools/bpftrace are NOT installed here: the benchmark has its own step.
APT_PKGS=(libbpfcc gcc make iproute2 util-linux)
missing=()
for p in "${APT_PKGS[@]}"; do is_installed "$p" || missing+=("$p"); done
if [ "${#missing[@]}" -eq 0 ]; then
    log "apt packages present: ${APT_PKGS[*]}"
else
    apt_lists_fresh || apt_update
    for p in "${missing[@]}"; do
        if [ -z "$(apt_candidate "$p")" ]; then apt_update; break; fi
    done
    for p in "${missing[@]}"; do
        [ -n "$(apt_candidate "$p")" ] || die "apt has no package $p (check /etc/apt/sources.list*)"
    done
    if ! apt_install "${missing[@]}"; then
        # Stale lists can name files the mirror dropped: refresh once, retry.
        [ "${BPFKIT_APT_UPDATED:-0}" = 1 ] && die "apt-get install ${missing[*]} failed"
        apt_update
        apt_install "${missing[@]}" || die "apt-get install ${missing[*]} failed"
    fi
    log "installed apt packages: ${missing[*]}"
fi

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
