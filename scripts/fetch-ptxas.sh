#!/usr/bin/env bash
# Fetches ptxas, NVIDIA's PTX assembler (CUDA 11.8, from Debian's non-free nvidia-cuda-toolkit package), into a cache
# directory and prints its path. ptxas needs no GPU: the tests assemble every ILGPU kernel's PTX with it for sm_90, so
# a machine without a GPU checks the code a GPU would run (docs/gpu.md, "PTX without a GPU").
# Usage: bash scripts/fetch-ptxas.sh   (cache: $BNNDSL_PTXAS_DIR, default $HOME/.cache/bnndsl/ptxas)
set -euo pipefail

cache="${BNNDSL_PTXAS_DIR:-$HOME/.cache/bnndsl/ptxas}"
package="nvidia-cuda-toolkit"

if [ -x "$cache/ptxas" ] && "$cache/ptxas" --version > /dev/null 2>&1; then
  echo "ptxas already in $cache" >&2
  echo "$cache/ptxas"
  exit 0
fi

for tool in apt-get dpkg-deb; do
  command -v "$tool" > /dev/null || { echo "fetch-ptxas: $tool is not installed (a Debian or Ubuntu machine is needed); install the CUDA toolkit instead and set PTXAS to its ptxas" >&2; exit 1; }
done
mkdir -p "$cache"
# The staging directory sits beside the cache so the final rename stays on one file system (atomic).
staging=$(mktemp -d "$cache/.fetch.XXXXXX")
trap 'rm -rf "$staging"' EXIT

# A private APT setup: only Debian 12's non-free component, its lists and the download kept in the staging directory;
# the system's sources, lists and package database are not touched.
echo "deb http://deb.debian.org/debian bookworm non-free" > "$staging/sources.list"
mkdir -p "$staging/lists/partial" "$staging/archives/partial"
apt_options=(-o "Dir::Etc::SourceList=$staging/sources.list" -o "Dir::Etc::SourceParts=$staging/none"
  -o "Dir::State::Lists=$staging/lists" -o "Dir::Cache::Archives=$staging/archives" -o "APT::Sandbox::User=root"
  -o "Debug::NoLocking=1")
echo "fetching $package (about 84 MB) for its ptxas ..." >&2
apt-get "${apt_options[@]}" -qq update > /dev/null
(cd "$staging" && apt-get "${apt_options[@]}" -qq download "$package" > /dev/null)
deb=$(ls "$staging"/${package}_*.deb 2> /dev/null | head -n 1)
[ -n "$deb" ] || { echo "fetch-ptxas: apt-get did not download $package; check that deb.debian.org is reachable" >&2; exit 1; }
dpkg-deb -x "$deb" "$staging/root"
ptxas="$staging/root/usr/bin/ptxas"
[ -x "$ptxas" ] || { echo "fetch-ptxas: $(basename "$deb") holds no usr/bin/ptxas; the package changed, install the CUDA toolkit and set PTXAS" >&2; exit 1; }
"$ptxas" --version > /dev/null || { echo "fetch-ptxas: the downloaded ptxas does not run on this machine" >&2; exit 1; }

mv -f "$ptxas" "$cache/ptxas"
echo "ptxas ready in $cache ($("$cache/ptxas" --version | grep -o 'release [0-9.]*'))" >&2
echo "$cache/ptxas"
