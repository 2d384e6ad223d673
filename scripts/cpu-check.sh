#!/usr/bin/env bash
# The CPU check, for a machine with no .NET SDK whose processor has what this project's CI machine lacks (AVX-512):
# run with the repository and artifacts/cpu-check.tar.xz (from scripts/cpu-publish.sh). It prints the processor, runs
# the CPU kernel, runtime and training tests on all cores (the AVX-512 paths in hardware, where CI runs them only
# through .NET's software fallback), then the BenchmarkDotNet benchmarks of the chosen groups in process, pinned to two
# cores on different physical cores (taskset, DOTNET_PROCESSOR_COUNT=2): the "2 cores" of the issues' targets.
# Usage: bash scripts/cpu-check.sh [GROUP ...]      (default: tests issue2 issue4 issue6)
#   tests   the three CPU test assemblies (bnn-cpu-check --tests), at most CPU_CHECK_TESTS_TIMEOUT_S (120) seconds
#   issue2  XNOR GEMM and SGEMM (both shapes), the four binary convolution stages
#   issue4  LeNet training step and LeNet inference
#   issue6  ResNet-18 (1, 2, 4 bits) against ONNX Runtime
#   kbit    the byte and bit-serial k-bit GEMMs
# Environment: CPU_CHECK_CORES (2) cores to pin; CPU_CHECK_QUICK (1) the quick job (warm-up 2, 6 iterations of
# ~150 ms; 0: the classes' own job, warm-up 3, 10 iterations); CPU_CHECK_BENCH_TIMEOUT_S (420) for all benchmark
# groups together; CPU_CHECK_RESULTS (artifacts/cpu-check-results): the BenchmarkDotNet reports and logs, also packed
# into $OUT/cpu-check-results.tgz when OUT is set (the device tool's output folder).
# Exit code: 0 all passed, 1 a test or benchmark failed, 2 missing payload or bad arguments, 124 a time limit.
set -uo pipefail
cd "$(dirname "$0")/.."

groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=(tests issue2 issue4 issue6)
filters=()
run_tests=0
for group in "${groups[@]}"; do
  case "$group" in
    tests) run_tests=1 ;;
    issue2) filters+=('*XnorGemmSquareBenchmarks*' '*XnorGemmConvShapeBenchmarks*' '*SgemmBenchmarks*' '*BinaryConvStage*') ;;
    issue4) filters+=('*LeNetTrainingBenchmarks*' '*LeNetInferenceBenchmarks*') ;;
    issue6) filters+=('*ResNet18VsOnnxRuntimeBenchmarks*') ;;
    kbit) filters+=('*ByteGemmBenchmarks*' '*BitSerialGemmBenchmarks*') ;;
    *) echo "cpu-check: unknown group '$group'; use tests, issue2, issue4, issue6 or kbit" >&2; exit 2 ;;
  esac
done

payload=artifacts/cpu-check
exe=$payload/bnn-cpu-check
if [ ! -x "$exe" ]; then
  archive=artifacts/cpu-check.tar.xz
  if [ ! -f "$archive" ]; then
    echo "cpu-check: neither $exe nor $archive found; run 'bash scripts/cpu-publish.sh' (any x64 Linux with the .NET SDK) and bring $archive along with the repository." >&2
    exit 2
  fi
  # tar with xz where xz is installed, else Python's lzma.
  if command -v xz > /dev/null 2>&1; then
    xz -dc "$archive" | tar -C artifacts -xf -
  else
    python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1], "r:xz").extractall(sys.argv[2])' "$archive" artifacts
  fi
  if [ ! -x "$exe" ]; then
    echo "cpu-check: $archive is damaged or incomplete (no $exe after unpacking it); run 'bash scripts/cpu-publish.sh' again." >&2
    exit 2
  fi
fi
results=${CPU_CHECK_RESULTS:-artifacts/cpu-check-results}
rm -rf "$results"  # one run's reports only
mkdir -p "$results"
export DOTNET_CLI_TELEMETRY_OPTOUT=1

echo "cpu-check: $(date -u '+%Y-%m-%d %H:%M UTC'), repository at $(git rev-parse --short HEAD 2> /dev/null || echo unknown), payload built from $(cat "$payload/commit" 2> /dev/null || echo unknown)"
if command -v lscpu > /dev/null 2>&1; then
  lscpu | grep -E '^(Model name|CPU\(s\)|Thread\(s\) per core|Core\(s\) per socket|Socket\(s\)|L1d|L2|L3|CPU max MHz)' || true
fi
echo "cpu-check: AVX-512 flags: $(grep -o -w 'avx512[a-z_0-9]*' /proc/cpuinfo 2> /dev/null | sort -u | tr '\n' ' ')"
"$exe" --info

status=0
if [ "$run_tests" = 1 ]; then
  mnist=$(mktemp -d)
  trap 'rm -rf "$mnist"' EXIT
  for file in "$payload"/mnist/*.gz; do
    [ -f "$file" ] && gzip -dc "$file" > "$mnist/$(basename "$file" .gz)"
  done
  echo "cpu-check: tests on all cores (MNIST in $mnist)"
  BNNDSL_MNIST_DIR=$mnist timeout "${CPU_CHECK_TESTS_TIMEOUT_S:-120}" "$exe" --tests
  code=$?
  [ "$code" = 0 ] || status=$code
fi

if [ ${#filters[@]} -gt 0 ]; then
  count=${CPU_CHECK_CORES:-2}
  # One logical CPU of each of the first COUNT physical cores (SMT siblings share a core's vector units).
  cores=""
  if command -v lscpu > /dev/null 2>&1; then
    cores=$(lscpu -p=CPU,CORE,SOCKET 2> /dev/null | grep -v '^#' | awk -F, '!seen[$2 "," $3]++ { print $1 }' | head -n "$count" | paste -sd, -)
  fi
  [ -n "$cores" ] || cores=$(seq -s, 0 $((count - 1)))
  pin=()
  if command -v taskset > /dev/null 2>&1; then
    pin=(taskset -c "$cores")
    echo "cpu-check: benchmarks pinned to CPUs $cores ($count physical cores), DOTNET_PROCESSOR_COUNT=$count"
  else
    echo "cpu-check: taskset not found: benchmarks NOT pinned (DOTNET_PROCESSOR_COUNT=$count only limits .NET's own thread counts)"
  fi
  quick=()
  [ "${CPU_CHECK_QUICK:-1}" = 0 ] || quick=(--quick)
  DOTNET_PROCESSOR_COUNT=$count timeout "${CPU_CHECK_BENCH_TIMEOUT_S:-420}" "${pin[@]}" "$exe" --bench "${quick[@]}" \
    --artifacts "$results/bdn" --filter "${filters[@]}"
  code=$?
  [ "$code" = 0 ] || status=$code
  cp "$results"/bdn/results/*-report-github.md "$results"/ 2> /dev/null || true
fi
# The device tool brings back a few files only: one archive of the reports and BenchmarkDotNet's logs.
if [ -n "${OUT:-}" ]; then
  tar -C "$results" -czf "$OUT/cpu-check-results.tgz" . && echo "cpu-check: $OUT/cpu-check-results.tgz"
fi
echo "cpu-check: reports in $results; exit $status"
exit "$status"
