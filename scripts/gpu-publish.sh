#!/usr/bin/env bash
# Publishes the device check (benchmarks/BnnDsl.GpuCheckApp, program bnn-gpu-check, with the GPU test assemblies) self-contained for linux-x64 into
# artifacts/gpu-check/, adds MNIST compressed (artifacts/gpu-check/mnist/*.gz, 11 MiB, for the device-vs-CPU LeNet
# training check: the GPU server cannot download it), prints the size and checks that it and the repository together
# stay under 60 MiB.
# Usage: bash scripts/gpu-publish.sh [--untrimmed]
#   default      trimmed (TrimMode partial: the framework is trimmed, CoreLib, ILGPU and our assemblies stay whole), ~30 MiB
#   --untrimmed  nothing trimmed, one compressed single-file executable, ~39 MiB: the fallback if trimming ever breaks ILGPU
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

mode=trimmed
case "${1:-}" in
  "") ;;
  --untrimmed) mode=untrimmed ;;
  *) echo "usage: bash scripts/gpu-publish.sh [--untrimmed]" >&2; exit 2 ;;
esac

out=artifacts/gpu-check
rm -rf "$out"
common=(benchmarks/BnnDsl.GpuCheckApp -c Release -r linux-x64 --self-contained -p:DebugType=none -o "$out")
if [ "$mode" = trimmed ]; then
  dotnet publish "${common[@]}" -p:GpuCheckTrimmed=true  # the project sets PublishTrimmed from it
else
  dotnet publish "${common[@]}" -p:PublishSingleFile=true -p:EnableCompressionInSingleFile=true \
    -p:IncludeNativeLibrariesForSelfExtract=true
fi

# MNIST for `bnn-gpu-check --mnist`: the four IDX files from the cache (fetched if missing), gzip -9, 11 MiB.
bash scripts/pack-mnist.sh "$out/mnist"

payload=$(du -sb "$out" | cut -f1)
repo=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -n 1 | cut -f1)
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
echo "payload: $out, $(mib "$payload") MiB ($mode); repository files: $(mib "$repo") MiB; together $(mib $((payload + repo))) MiB (limit 60 MiB)"
if [ $((payload + repo)) -gt $((60 * 1048576)) ]; then
  echo "gpu-publish: payload and repository exceed 60 MiB" >&2
  exit 1
fi
