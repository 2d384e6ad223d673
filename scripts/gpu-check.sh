#!/usr/bin/env bash
# The device check, run on the GPU server with the repository and artifacts/gpu-check/ (from scripts/gpu-publish.sh):
# first the GPU test assemblies on CUDA (the xunit tests CI runs on the CPU accelerator, run in-process by
# bnn-gpu-check --tests), then the kernel checks and XNOR GEMM vs cuBLAS SGEMM (FP32, TF32 off) vs our SGEMM; the table
# comes last.
# Usage: bash scripts/gpu-check.sh [bnn-gpu-check arguments, e.g. --repeats 10 --ptx DIR --mnist-epochs 2]
# (GPU_CHECK_MNIST=0 leaves out the MNIST training check that runs when artifacts/gpu-check/mnist exists;
# GPU_CHECK_TESTS=0 the test assemblies, which --smoke also leaves out.)
# Exit code: the check's (0 passed, 1 a check failed, 2 no CUDA device or bad arguments), 1 if only the tests failed;
# 124 after the time limit.
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
# ILGPU imports the driver as "cuda"; the program loads libcuda.so.1 itself (CudaDriverLibrary). Show what is there.
echo "gpu-check: driver libraries: $( (ldconfig -p 2> /dev/null | grep -o 'libcuda\.so[.0-9]*' | sort -u | tr '\n' ' ') || true)"

# cuBLAS ships with the CUDA toolkit or the pip package nvidia-cublas, not the driver: add the toolkit's folders when
# present, then the wheels' folders holding libcublas.so.13/12/11 (nvidia/cu13/lib, nvidia/cublas/lib under
# site-packages). The program also searches those folders itself (kernels/Gpu/CuBlasLibrary.cs) and prints the one bound.
for dir in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do
  [ -d "$dir" ] && export LD_LIBRARY_PATH="$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
done
wheel_dirs=""
if command -v python3 > /dev/null 2>&1; then
  wheel_dirs=$(timeout 2 python3 -c '
import glob, os
try:
    import nvidia
    roots = list(nvidia.__path__)
except Exception:
    roots = []
for root in roots:
    for sub in ("cu13/lib", "cublas/lib"):
        if glob.glob(os.path.join(root, sub, "libcublas.so.1[123]")):
            print(os.path.join(root, sub))
' 2> /dev/null || true)
fi
if [ -z "$wheel_dirs" ]; then
  wheel_dirs=$(timeout 2 find /usr/local/lib /usr/lib /opt "${HOME:-/root}/.local/lib" -maxdepth 6 -name 'libcublas.so.1[123]' \
    -printf '%h\n' 2> /dev/null | sort -u || true)
fi
while IFS= read -r dir; do
  [ -n "$dir" ] || continue
  export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$dir"
  echo "gpu-check: cuBLAS folder $dir: $(cd "$dir" && echo libcublas.so.1[123])"
done <<< "$wheel_dirs"
export NVIDIA_TF32_OVERRIDE=0  # the SGEMM baseline is FP32, never TF32
export DOTNET_CLI_TELEMETRY_OPTOUT=1

# LeNet on MNIST, device against CPU (issue 7: same accuracy): gpu-publish.sh packs MNIST gzipped beside the program.
# Unpacked into a temporary folder unless the arguments name --mnist already or --smoke (LeNet takes minutes per step
# on the CPU accelerator), or GPU_CHECK_MNIST=0.
args=("$@")
if [ "${GPU_CHECK_MNIST:-1}" != 0 ] && [ -d artifacts/gpu-check/mnist ] && [[ " $* " != *" --mnist "* ]] && [[ " $* " != *" --smoke "* ]]; then
  # Where the tests read it too (GpuCheckTests' MNIST test under --tests): $BNNDSL_MNIST_DIR, else a temporary folder.
  if [ -z "${BNNDSL_MNIST_DIR:-}" ]; then
    BNNDSL_MNIST_DIR=$(mktemp -d)
    trap 'rm -rf "$BNNDSL_MNIST_DIR"' EXIT
  fi
  export BNNDSL_MNIST_DIR
  mnist=$BNNDSL_MNIST_DIR
  mkdir -p "$mnist"
  for file in artifacts/gpu-check/mnist/*.gz; do
    gzip -dc "$file" > "$mnist/$(basename "$file" .gz)"
  done
  args+=(--mnist "$mnist")
  echo "gpu-check: MNIST unpacked into $mnist (LeNet training check, device against CPU)"
fi

# The whole check finishes within 8 minutes: the tests get at most 200 s, the check what is left of 470 s.
limit=${GPU_CHECK_TIMEOUT_S:-470}
tests_status=0
if [ "${GPU_CHECK_TESTS:-1}" != 0 ] && [[ " $* " != *" --smoke "* ]]; then
  echo "gpu-check: the GPU test assemblies on CUDA (bnn-gpu-check --tests cuda)"
  timeout --kill-after=10 "${GPU_CHECK_TESTS_TIMEOUT_S:-200}" "$exe" --tests cuda
  tests_status=$?
  [ "$tests_status" -eq 124 ] && echo "gpu-check: the tests stopped at their time limit (${GPU_CHECK_TESTS_TIMEOUT_S:-200} s)" >&2
fi
left=$((limit - SECONDS))
[ "$left" -lt 60 ] && left=60
timeout --kill-after=10 "$left" "$exe" "${args[@]}"
status=$?
if [ "$status" -eq 124 ]; then
  echo "gpu-check: stopped at the time limit ($limit s)" >&2
fi
if [ "$tests_status" -ne 0 ]; then
  echo "gpu-check: the GPU test assemblies failed on CUDA (exit $tests_status; see the FAILED lines above the check)" >&2
  [ "$status" -eq 0 ] && status=1
fi
exit "$status"
