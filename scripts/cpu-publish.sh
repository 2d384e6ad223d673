#!/usr/bin/env bash
# Publishes the CPU check (benchmarks/BnnDsl.CpuCheckApp, program bnn-cpu-check: the CPU kernel, runtime and training
# tests and the BenchmarkDotNet benchmarks, all run in process) self-contained for linux-x64, adds MNIST gzipped (for
# the MNIST test; the target machine cannot download it) and packs both into artifacts/cpu-check.tar.xz, the one file a
# machine without .NET needs beside the repository: a lent GPU server, whose processor has the AVX-512 that this
# project's CI machine masks (docs/PERF.md, "AVX-512 on another machine"). Checks that the archive and the repository's
# files stay under 60 MiB (the device tool carries 64 MiB).
# Usage: bash scripts/cpu-publish.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

out=artifacts/cpu-check
archive=artifacts/cpu-check.tar.xz
rm -rf "$out"
# Untrimmed: BenchmarkDotNet and xunit find their work by reflection, and the archive fits without trimming.
dotnet publish benchmarks/BnnDsl.CpuCheckApp -c Release -r linux-x64 --self-contained -p:DebugType=none -o "$out"
# What Linux never loads: the Windows builds of ONNX Runtime and TraceEvent's Windows helpers (NuGet copies them
# whatever the runtime identifier), and the runtime's debugger and dump support (22 MiB).
rm -rf "$out"/amd64 "$out"/onnxruntime.dll "$out"/onnxruntime_providers_shared.dll "$out"/createdump \
  "$out"/libmscordaccore.so "$out"/libmscordbi.so
bash scripts/pack-mnist.sh "$out/mnist"
# The commit the payload was built from (cpu-check.sh prints it beside the repository's): "-dirty" with local changes.
echo "$(git rev-parse --short HEAD)$( [ -z "$(git status --porcelain --untracked-files=no)" ] || echo -dirty)" > "$out/commit"
# xz: 140 MiB of runtime, BenchmarkDotNet, ONNX Runtime and tests in about 45 MiB (gzip: 60); takes a minute or two.
tar -C artifacts -cf - cpu-check | xz -9 -T0 > "$archive.tmp"
mv -f "$archive.tmp" "$archive"

folder=$(du -sb "$out" | cut -f1)
size=$(wc -c < "$archive")
repo=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -n 1 | cut -f1)
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
echo "payload: $archive, $(mib "$size") MiB ($out: $(mib "$folder") MiB unpacked); repository files: $(mib "$repo") MiB; together $(mib $((size + repo))) MiB (limit 60 MiB)"
if [ $((size + repo)) -gt $((60 * 1048576)) ]; then
  echo "cpu-publish: archive and repository exceed 60 MiB" >&2
  exit 1
fi
