#!/usr/bin/env bash
# base.sh: the image's base, a Debian bookworm root filesystem made from Debian's packages with
# mmdebstrap (no registry needed), imported into podman as $BASE_TAG.
#
# The tarball is cached under $IMAGE_CACHE and reused; the podman image is re-imported from it
# when storage lost it. minbase (no apt recommends, no docs/man/locales): ~86 MB. Delete the
# tarball to pick up Debian's newer packages (the Containerfile's apt-get upgrades nothing).
# Env: IMAGE_CACHE (default /var/cache/bpfkit/image), BASE_TAG, DEBIAN_MIRROR, CONTAINERS_CONF.
set -euo pipefail
umask 022

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IMAGE_CACHE=${IMAGE_CACHE:-/var/cache/bpfkit/image}
BASE_TAG=${BASE_TAG:-localhost/bpfkit-base:bookworm}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
TARBALL=$IMAGE_CACHE/bookworm-minbase.tar

log() { printf 'image: %s\n' "$*"; }
die() { printf 'image: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || { echo "base.sh: must be run as root (mmdebstrap, podman)" >&2; exit 2; }
for cmd in mmdebstrap podman; do
    command -v "$cmd" >/dev/null || die "$cmd not found: run make image-deps"
done

if podman image exists "$BASE_TAG"; then
    log "base present: $BASE_TAG"
    exit 0
fi

if [ ! -s "$TARBALL" ]; then
    mkdir -p "$IMAGE_CACHE"
    log "building the base root filesystem with mmdebstrap (bookworm, minbase)"
    start=$SECONDS
    tmp="$IMAGE_CACHE/.bookworm-minbase.$$.tar"
    trap 'rm -rf "$tmp"' EXIT
    # usr-is-merged + the merged-usr hook: the layout bookworm's own images have. The dpkg
    # excludes stay in the root filesystem, so the Containerfile's packages lose their docs too.
    mmdebstrap --quiet --format=tar --variant=minbase --include=usr-is-merged \
        --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
        --dpkgopt="$HERE/dpkg-nodoc.cfg" \
        --aptopt='Acquire::Languages "none"' \
        --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/log/*.log' \
        bookworm "$tmp" "$MIRROR" >"$IMAGE_CACHE/mmdebstrap.log" 2>&1 \
        || { tail -n 20 "$IMAGE_CACHE/mmdebstrap.log" >&2; die "mmdebstrap failed (log: $IMAGE_CACHE/mmdebstrap.log)"; }
    mv -f "$tmp" "$TARBALL"
    trap - EXIT
    log "base root filesystem: $(du -m "$TARBALL" | cut -f1) MB in $((SECONDS - start)) s ($TARBALL)"
fi

podman import --quiet \
    --change 'CMD ["/bin/bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$TARBALL" "$BASE_TAG" >/dev/null
log "imported $BASE_TAG"
