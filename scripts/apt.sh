#!/usr/bin/env bash
# apt.sh: installing Debian/Ubuntu packages the way every set-up step here does it. Sourced by
# deps.sh and kernel-headers.sh; also runnable: `bash scripts/apt.sh install PKG...` installs
# what is missing (used by `make bench-deps` / `make test-deps`).
#
# Policy: never touch apt when the packages are already installed; refresh the lists only when
# they are missing, older than a day, or lack a package we need; retry an install once after a
# refresh (stale lists can name files the mirror dropped).
# Callers define log() and die(); CACHE_BASE and APT_STAMP may be set before sourcing.

: "${CACHE_BASE:=$(realpath -m "${BPFKIT_CACHE_DIR:-/var/cache/bpfkit}")}"
: "${APT_STAMP:=$CACHE_BASE/apt-update.stamp}"
APT_OPTS=(-o DPkg::Lock::Timeout=300)   # wait for apt-daily etc. instead of failing

# Lists are "fresh" when there are any and apt (or we) refreshed them in the last 24 h. apt
# rewrites lists/partial on every update; the list files keep the server's Last-Modified time,
# so they are not a usable clock.
apt_lists_fresh() {
    compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null || return 1
    [ -n "$(find /var/lib/apt/lists/partial "$APT_STAMP" -maxdepth 0 -mmin -1440 2>/dev/null)" ]
}

# At most once per run; the flag is exported so child scripts skip it too.
apt_update() {
    [ "${BPFKIT_APT_UPDATED:-0}" = 1 ] && return 0
    log "refreshing apt lists (apt-get update)"
    # A broken third-party source must not stop us; whether the packages we need became
    # available is checked afterwards.
    apt-get "${APT_OPTS[@]}" -qq update || log "warning: apt-get update reported errors"
    mkdir -p "$CACHE_BASE" && touch "$APT_STAMP"
    export BPFKIT_APT_UPDATED=1
}

ensure_apt_lists() { apt_lists_fresh || apt_update; }

# The candidate version of a package, or nothing.
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

# Installs whichever of the packages are missing; prints one line either way.
ensure_packages() {
    local missing=() p
    for p in "$@"; do is_installed "$p" || missing+=("$p"); done
    if [ "${#missing[@]}" -eq 0 ]; then
        log "apt packages present: $*"
        return 0
    fi
    ensure_apt_lists
    for p in "${missing[@]}"; do
        if [ -z "$(apt_candidate "$p")" ]; then apt_update; break; fi
    done
    for p in "${missing[@]}"; do
        [ -n "$(apt_candidate "$p")" ] || die "apt has no package $p (check /etc/apt/sources.list*)"
    done
    if ! apt_install "${missing[@]}"; then
        [ "${BPFKIT_APT_UPDATED:-0}" = 1 ] && die "apt-get install ${missing[*]} failed"
        apt_update
        apt_install "${missing[@]}" || die "apt-get install ${missing[*]} failed"
    fi
    log "installed apt packages: ${missing[*]}"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    log() { printf 'apt: %s\n' "$*"; }
    die() { printf 'apt: error: %s\n' "$*" >&2; exit 1; }
    [ "$(id -u)" -eq 0 ] || { echo "apt.sh: must be run as root" >&2; exit 2; }
    [ "${1:-}" = install ] && [ $# -gt 1 ] || { echo "usage: apt.sh install PKG..." >&2; exit 2; }
    shift
    ensure_packages "$@"
fi
