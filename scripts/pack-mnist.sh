#!/usr/bin/env bash
# Packs MNIST for a machine that cannot download it: the four IDX files from the cache (fetched if missing), each
# gzip -9 into DIR/*.gz (11 MiB in all), written under a temporary name and renamed. Used by gpu-publish.sh and
# cpu-publish.sh; gpu-check.sh and cpu-check.sh unpack them.
# Usage: bash scripts/pack-mnist.sh DIR
set -euo pipefail
if [ $# -ne 1 ]; then echo "usage: bash scripts/pack-mnist.sh DIR" >&2; exit 2; fi
cd "$(dirname "$0")/.."
out=$1
mnist=$(bash scripts/fetch-mnist.sh)
mkdir -p "$out"
for file in "$mnist"/*-ubyte; do
  gzip -9 -c "$file" > "$out/$(basename "$file").gz.tmp"
  mv -f "$out/$(basename "$file").gz.tmp" "$out/$(basename "$file").gz"
done
