#!/usr/bin/env bash
# Runs every test project of the solution and prints one closing line: "N passed, N failed, N skipped".
# Usage: bash scripts/test.sh [extra dotnet test arguments, e.g. --no-build]
set -uo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# MnistEquivalenceTests reads the real MNIST test images: fetch them into the cache first (a no-op when complete).
bash scripts/fetch-mnist.sh > /dev/null
# GpuCheckTests assembles every GPU kernel's PTX with ptxas (no GPU needed): fetch it into its cache (a no-op when there).
bash scripts/fetch-ptxas.sh > /dev/null

log=$(mktemp)
dotnet test BnnDsl.sln -c Release "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# dotnet test prints one line per test assembly:
#   Passed!  - Failed:     0, Passed:    26, Skipped:     0, Total:    26, Duration: 7 s - X.Tests.dll (net10.0)
read -r passed failed skipped assemblies < <(awk '
  /(Passed|Failed)! +- +Failed: +[0-9]+, Passed: +[0-9]+, Skipped: +[0-9]+/ {
    line = $0; gsub(/[^0-9,]/, " ", line); split(line, f, ",")
    failed += f[1]; passed += f[2]; skipped += f[3]; n++
  }
  END { printf "%d %d %d %d\n", passed, failed, skipped, n }' "$log")
rm -f "$log"

if [ "$assemblies" -eq 0 ]; then
  echo "no test assembly reported results (dotnet test exit code $status)" >&2
  [ "$status" -eq 0 ] && status=1
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1  # the run broke before or outside a test (build error, crashed test host): count it as a failure
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
