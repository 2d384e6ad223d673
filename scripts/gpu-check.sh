#!/usr/bin/env bash
# The device check, run on the GPU server with the repository and artifacts/gpu-check/ (from scripts/gpu-publish.sh):
# the GPU kernel checks on CUDA, then XNOR GEMM vs cuBLAS SGEMM (FP32, TF32 off) vs our SGEMM; the table comes last.
# Usage: bash scripts/gpu-check.sh [bnn-gpu-check arguments, e.g. --repeats 10]
# Exit code: the program's (0 passed, 1 a check failed, 2 no CUDA device or bad arguments); 124 after the time limit.
set -uo pipefail
cd "$(dirname "$0")/.."

exe=artifacts/gpu-check/bnn-gpu-check
if [ ! -x "$exe" ]; then
  echo "gpu-check: $exe not found; run 'bash scripts/gpu-publish.sh' (any x64 Linux with the .NET SDK) and bring artifacts/gpu-check/ along with the repository." >&2
  exit 2
fi
if command -v nvidia-smi > /dev/null 2>&1; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
fi

# cuBLAS ships with the CUDA toolkit, not the driver: add its usual folders when present (ILGPU loads libcublas.so.12/11).
for dir in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do
  [ -d "$dir" ] && export LD_LIBRARY_PATH="$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
done
export NVIDIA_TF32_OVERRIDE=0  # the SGEMM baseline is FP32, never TF32
export DOTNET_CLI_TELEMETRY_OPTOUT=1

# The whole check finishes within 8 minutes; stop it at 7m50s whatever happens.
timeout --kill-after=10 "${GPU_CHECK_TIMEOUT_S:-470}" "$exe" "$@"
status=$?
if [ "$status" -eq 124 ]; then
  echo "gpu-check: stopped at the time limit (${GPU_CHECK_TIMEOUT_S:-470} s)" >&2
fi
exit "$status"
