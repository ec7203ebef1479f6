#!/usr/bin/env bash
# kernel-headers.sh: make kernel headers available to libbcc for the running kernel.
#
# libbcc compiles BPF C against kernel headers and looks for them (in order) at
# /lib/modules/$(uname -r)/build, /sys/kernel/kheaders.tar.xz (CONFIG_IKHEADERS),
# or the single directory named by $BCC_KERNEL_SOURCE. This script makes sure
# one of these works:
#   1. the running kernel already has headers: nothing to do;
#   2. the distribution packages headers for the running kernel: install them;
#   3. otherwise (custom kernel): download the CLOSEST headers package of this
#      architecture, merge its two halves (source headers "common" package +
#      arch-specific generated headers) into one tree under the cache, and write
#      a descriptor <root>/<uname -r>.json that tells bpfkit which
#      BCC_KERNEL_SOURCE to use. Nothing is installed and nothing is written
#      under /lib/modules in this case.
#
# Cache layout (read by other code; keep it exactly):
#   <root> = ${BPFKIT_CACHE_DIR:-/var/cache/bpfkit}/kernel-headers   (0755, root)
#   <root>/<headers-release>/    merged tree, e.g. <root>/6.12.117+deb12-amd64/
#   <root>/<uname -r>.json       {"kernel":..,"headers":..,"path":..,"packages":[..],"exact":..}
#
# Idempotent: a second run only does a few stat()s and exits.
# Env: BPFKIT_CACHE_DIR (cache base), BPFKIT_HEADERS_FLAVOUR (override the
# package flavour, e.g. "amd64", "arm64", "generic").
set -euo pipefail
umask 022            # the cache must be readable by non-root users too
export LC_ALL=C      # stable sort order and tool messages

KREL=$(uname -r)
CACHE_BASE=$(realpath -m "${BPFKIT_CACHE_DIR:-/var/cache/bpfkit}")
ROOT="$CACHE_BASE/kernel-headers"
DESC="$ROOT/$KREL.json"
APT_STAMP="$CACHE_BASE/apt-update.stamp"

log() { printf 'kernel-headers: %s\n' "$*"; }
die() { printf 'kernel-headers: error: %s\n' "$*" >&2; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
    echo "kernel-headers.sh: must be run as root (it uses apt and writes $ROOT)" >&2
    exit 2
fi

# shellcheck source=apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

# --- json helpers -------------------------------------------------------------

json_str() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"; }

descriptor_path() {   # path field of a descriptor we wrote (one line, no escapes)
    [ -f "$1" ] || return 0
    sed -n 's/.*"path":"\([^"]*\)".*/\1/p' "$1" | head -n1
}

write_descriptor() {  # release path exact pkg...
    local release=$1 path=$2 exact=$3; shift 3
    local pkgs="" p tmp
    for p in "$@"; do pkgs+="${pkgs:+,}$(json_str "$p")"; done
    tmp=$(mktemp "$ROOT/.$KREL.json.XXXXXX")
    printf '{"kernel":%s,"headers":%s,"path":%s,"packages":[%s],"exact":%s}\n' \
        "$(json_str "$KREL")" "$(json_str "$release")" "$(json_str "$path")" "$pkgs" "$exact" >"$tmp"
    chmod 0644 "$tmp"
    mv -f "$tmp" "$DESC"     # atomic: readers see the old or the new file, never half
}

# A descriptor left from before real headers appeared would make bpfkit pick
# the approximate tree over the exact one: drop it.
drop_stale_descriptor() {
    if [ -e "$DESC" ]; then rm -f "$DESC"; log "removed stale $DESC"; fi
}

# --- 1. headers already available to libbcc -----------------------------------

if [ -e "/lib/modules/$KREL/build/include/linux/kconfig.h" ]; then
    drop_stale_descriptor
    log "present: /lib/modules/$KREL/build"
    exit 0
fi
if [ -e /sys/kernel/kheaders.tar.xz ]; then
    drop_stale_descriptor
    log "present: /sys/kernel/kheaders.tar.xz (CONFIG_IKHEADERS)"
    exit 0
fi

# Fast path for case 3 done earlier.
p=$(descriptor_path "$DESC")
if [ -n "$p" ] && [ -e "$p/include/linux/kconfig.h" ]; then
    log "present: $p (descriptor $DESC)"
    exit 0
fi

# --- 2. the distribution's own headers package for this kernel ---------------

ensure_apt_lists
if [ -n "$(apt_candidate "linux-headers-$KREL")" ]; then
    log "installing linux-headers-$KREL"
    DEBIAN_FRONTEND=noninteractive apt-get "${APT_OPTS[@]}" -qq install -y --no-install-recommends \
        "linux-headers-$KREL" >/dev/null
    [ -e "/lib/modules/$KREL/build/include/linux/kconfig.h" ] ||
        die "linux-headers-$KREL installed but /lib/modules/$KREL/build/include/linux/kconfig.h is missing"
    drop_stale_descriptor
    log "installed linux-headers-$KREL"
    exit 0
fi

# --- 3. closest headers package, merged into the cache -----------------------

# Package flavour matching this machine: Debian names by architecture
# (linux-headers-<abi>-amd64), Ubuntu uses -generic on every architecture.
headers_flavour() {
    if [ -n "${BPFKIT_HEADERS_FLAVOUR:-}" ]; then echo "$BPFKIT_HEADERS_FLAVOUR"; return; fi
    local id="" id_like=""
    if [ -r /etc/os-release ]; then
        id=$(. /etc/os-release && echo "${ID:-}")
        id_like=$(. /etc/os-release && echo "${ID_LIKE:-}")
    fi
    case " $id $id_like " in *" ubuntu "*) echo generic; return ;; esac
    local arch
    arch=$(dpkg --print-architecture)
    case $arch in
        i386) echo 686-pae ;;
        armhf) echo armmp ;;
        ppc64el) echo powerpc64le ;;
        *) echo "$arch" ;;       # amd64, arm64, s390x, riscv64, ...
    esac
}

# Upstream version of a kernel release / package version: "6.18.44-fc-v669" ->
# "6.18.44", "6.12.117-1~deb12u1" -> "6.12.117", "1:6.8.0-45.45" -> "6.8.0".
upstream_of() { sed -E 's/^[0-9]+://; s/^([0-9]+(\.[0-9]+)*).*/\1/' <<<"$1"; }

# Candidates, one per line: "<upstream> <package-version> <package>", sorted
# ascending. Only versioned packages of exactly this flavour:
#   linux-headers-6.1.0-47-amd64, linux-headers-6.12.117+deb12-amd64 (Debian),
#   linux-headers-6.8.0-45-generic (Ubuntu).
# Meta packages (linux-headers-6.12-amd64, -6.12-cloud-amd64) have no ABI part
# and -rt/-cloud variants a different suffix, so neither matches.
list_candidates() {
    local flavour=$1 names
    names=$(apt-cache pkgnames linux-headers- |
        grep -E "^linux-headers-[0-9]+\.[0-9]+(\.[0-9]+)?(-[0-9][0-9A-Za-z.~]*|\+[0-9A-Za-z.~]+)-${flavour}\$" |
        grep -vE -- '-(rt|cloud)-' || true)
    [ -n "$names" ] || return 0
    # shellcheck disable=SC2086 # word splitting of the name list is intended
    apt-cache madison $names 2>/dev/null |
        awk -F'|' '$3 ~ /Packages[ \t]*$/ { gsub(/[ \t]/, "", $1); gsub(/[ \t]/, "", $2); print $1, $2 }' |
        while read -r pkg ver; do echo "$(upstream_of "$ver") $ver $pkg"; done |
        sort -k1,1V -k2,2V -u
}

# Closest = highest upstream version <= the running kernel's; else the lowest
# above it (for equal upstream versions, the newest package).
pick_closest() {
    local kver=$1 up ver pkg le="" gt="" gt_up=""
    while read -r up ver pkg; do
        if dpkg --compare-versions "$up" le "$kver"; then
            le=$pkg
        elif [ -z "$gt_up" ] || [ "$up" = "$gt_up" ]; then
            gt_up=$up gt=$pkg
        fi
    done
    echo "${le:-$gt}"
}

KVER=$(upstream_of "$KREL")
FLAVOUR=$(headers_flavour)
cands=$(list_candidates "$FLAVOUR")
if [ -z "$cands" ] && [ "${BPFKIT_APT_UPDATED:-0}" != 1 ]; then
    apt_update                      # maybe the lists predate the packages
    cands=$(list_candidates "$FLAVOUR")
fi
[ -n "$cands" ] || die "no linux-headers-*-$FLAVOUR package in the apt lists (set BPFKIT_HEADERS_FLAVOUR?)"
ARCH_PKG=$(pick_closest "$KVER" <<<"$cands")
RELEASE=${ARCH_PKG#linux-headers-}
TREE="$ROOT/$RELEASE"

# The arch package depends on the package with the source headers
# (Debian: linux-headers-<abi>-common, Ubuntu: linux-headers-<abi>).
COMMON_PKG=$(apt-cache depends "$ARCH_PKG" 2>/dev/null |
    sed -n 's/^ *|\{0,1\}Depends: \(linux-headers-[^ <>]*\)$/\1/p' | grep -vxF "$ARCH_PKG" | head -n1 || true)
PKGS=("$ARCH_PKG")
[ -n "$COMMON_PKG" ] && PKGS+=("$COMMON_PKG")
EXACT=false
[ "$RELEASE" = "$KREL" ] && EXACT=true

install -d -m 0755 -o root -g root "$ROOT"

# Serialise concurrent runs; re-check once we hold the lock.
exec 9>"$ROOT/.lock"
flock 9
p=$(descriptor_path "$DESC")
if [ -n "$p" ] && [ -e "$p/include/linux/kconfig.h" ]; then
    log "present: $p (built by a concurrent run)"
    exit 0
fi

if [ -e "$TREE/include/linux/kconfig.h" ]; then
    # Tree already built (e.g. for another kernel): only the descriptor is missing.
    write_descriptor "$RELEASE" "$TREE" "$EXACT" "${PKGS[@]}"
    log "reusing $TREE for $KREL; wrote $DESC"
    exit 0
fi

log "no headers packaged for $KREL; using closest: ${PKGS[*]}"
start=$SECONDS

# Leftovers of interrupted runs (we hold the lock, so they are not in use).
rm -rf "$ROOT"/.tmp.* "$ROOT"/."$KREL".json.??????

# Work next to the cache so the final rename is atomic (same file system).
WORK=$(mktemp -d "$ROOT/.tmp.$RELEASE.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir "$WORK/debs" "$WORK/x"
# apt-get download drops privileges to _apt; let it write here.
chmod 0755 "$WORK"
id _apt >/dev/null 2>&1 && chown _apt "$WORK/debs"

download() { (cd "$WORK/debs" && apt-get "${APT_OPTS[@]}" -qq download "${PKGS[@]}" 2>&1); }
if ! out=$(download); then
    # Stale lists point at files the mirror no longer has: refresh once, retry.
    [ "${BPFKIT_APT_UPDATED:-0}" = 1 ] && die "apt-get download ${PKGS[*]} failed: $out"
    apt_update
    out=$(download) || die "apt-get download ${PKGS[*]} failed: $out"
fi

for deb in "$WORK"/debs/*.deb; do dpkg-deb -x "$deb" "$WORK/x"; done

SRC="$WORK/x/usr/src"
ARCH_DIR="$SRC/linux-headers-$RELEASE"
[ -d "$ARCH_DIR" ] || die "$ARCH_PKG has no usr/src/linux-headers-$RELEASE"
mapfile -t others < <(find "$SRC" -mindepth 1 -maxdepth 1 -type d ! -path "$ARCH_DIR")
MERGED="$WORK/merged"

# libbcc uses ONE directory for source and generated headers, so lay the
# common tree down first and the arch tree (generated headers, .config) on top.
if [ "${#others[@]}" -eq 1 ]; then
    COMMON_DIR=${others[0]}
    mv "$COMMON_DIR" "$MERGED"       # same file system: a rename, not a copy
    # Ubuntu's arch tree links into the common tree (include/foo ->
    # ../../linux-headers-X/include/foo). Those entries already exist in the
    # merged tree; copying the links over them would replace real directories
    # by dangling links.
    while IFS= read -r -d '' link; do
        rel=${link#"$ARCH_DIR"/}
        target=$(readlink "$link")
        case $target in /*) resolved=$(realpath -m "$WORK/x$target") ;;
                        *) resolved=$(realpath -m "$(dirname "$link")/$target") ;; esac
        case $resolved in
            "$COMMON_DIR"/*)
                if [ "${resolved#"$COMMON_DIR"/}" = "$rel" ]; then
                    rm -f "$link"
                else
                    ln -sfn "$(realpath -m --relative-to="$(dirname "$MERGED/$rel")" \
                        "$MERGED/${resolved#"$COMMON_DIR"/}")" "$link"
                fi ;;
        esac
    done < <(find "$ARCH_DIR" -type l -print0)
    cp -a --remove-destination "$ARCH_DIR/." "$MERGED/"
elif [ "${#others[@]}" -eq 0 ]; then
    mv "$ARCH_DIR" "$MERGED"         # self-contained headers package
else
    die "unexpected layout: several trees in usr/src of ${PKGS[*]}"
fi

# Links leaving the tree (scripts, tools -> ../../lib/linux-kbuild-*, which
# libbcc does not need) would dangle in the cache: remove them.
while IFS= read -r -d '' link; do
    resolved=$(realpath -m "$link")
    case $resolved in
        "$MERGED"/*) [ -e "$link" ] || rm -f "$link" ;;
        *) rm -f "$link" ;;
    esac
done < <(find "$MERGED" -type l -print0)

[ -e "$MERGED/include/linux/kconfig.h" ] || die "merged tree lacks include/linux/kconfig.h"
[ -e "$MERGED/include/generated/autoconf.h" ] || die "merged tree lacks include/generated/autoconf.h"
chmod 0755 "$MERGED"

rm -rf "$TREE"                       # an invalid leftover, if any
mv -T "$MERGED" "$TREE"
write_descriptor "$RELEASE" "$TREE" "$EXACT" "${PKGS[@]}"
log "built $TREE ($(du -sh "$TREE" | cut -f1), $((SECONDS - start)) s); wrote $DESC"
