#!/usr/bin/env bash
# The kernel benchmark summary: builds everything, then runs XNOR GEMM vs SGEMM and binary vs float convolution,
# 1 and 2 threads (about 10 minutes).
# Usage: bash scripts/bench-kernels.sh [extra BenchmarkDotNet arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

dotnet build BnnDsl.sln -c Release
dotnet run -c Release --no-build --project benchmarks/BnnDsl.Benchmarks -- \
  --filter '*XnorGemm*' '*BinaryConv*' --artifacts artifacts/benchmarks "$@"
echo
echo "Full reports (Markdown, CSV, HTML): artifacts/benchmarks/results/"
