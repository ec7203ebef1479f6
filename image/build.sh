#!/usr/bin/env bash
# build.sh: `make image`. The base (base.sh, cached), the build context (stage.sh), then the
# Containerfile; prints the tag and the image's size.
# Env: IMAGE (tag, default localhost/bpfkit:<package version>), BASE (FROM; default the
# mmdebstrap base, e.g. docker.io/library/debian:bookworm-slim with a registry).
set -euo pipefail
umask 022

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
DEFAULT_BASE=localhost/bpfkit-base:bookworm
BASE=${BASE:-$DEFAULT_BASE}

log() { printf 'image: %s\n' "$*"; }
die() { printf 'image: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || { echo "make image: must be run as root (podman storage, mmdebstrap)" >&2; exit 2; }
command -v podman >/dev/null || die "podman not found: run make image-deps"

start=$SECONDS
pull=missing
if [ "$BASE" = "$DEFAULT_BASE" ]; then
    BASE_TAG=$BASE bash "$HERE/base.sh"
    pull=never   # a local image: asking a registry for it would only fail
fi

context=$(mktemp -d "${TMPDIR:-/tmp}/bpfkit-image.XXXXXX")
trap 'rm -rf "$context"' EXIT
version=$(bash "$HERE/stage.sh" "$context" | tail -n 1)
IMAGE=${IMAGE:-localhost/bpfkit:$version}
cp "$HERE/Containerfile" "$HERE/dpkg-nodoc.cfg" "$context/"

log "building $IMAGE from $BASE"
podman build --quiet --pull="$pull" --build-arg "BASE=$BASE" --build-arg "VERSION=$version" \
    --tag "$IMAGE" --file "$context/Containerfile" "$context" >/dev/null
bytes=$(podman image inspect --format '{{.Size}}' "$IMAGE")
log "built $IMAGE: $((bytes / 1000000)) MB in $((SECONDS - start)) s"
