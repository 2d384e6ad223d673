#!/usr/bin/env bash
# The main job: fetch MNIST (once, cached), build, train the binary LeNet, evaluate its best checkpoint, and print
# test accuracy, model size and speed. About 6-8 minutes on 2 cores.
# Usage: bash scripts/main.sh [extra LeNet train options, e.g. --epochs 5]
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

data=$(bash scripts/fetch-mnist.sh)
dotnet build examples/LeNet -c Release -v quiet -nologo
out=runs/lenet
lenet() { dotnet run -c Release --no-build --project examples/LeNet -- "$@"; }

mkdir -p runs
lenet train --data "$data" --out "$out" --json "$@" | tee "$out.train.log"
lenet eval --data "$data" --out "$out" --json | tee "$out.eval.log"
lenet summary --json > "$out.summary.log"

train=$(tail -n 1 "$out.train.log"); eval=$(tail -n 1 "$out.eval.log"); summary=$(tail -n 1 "$out.summary.log")
field() { sed -E "s/.*\"$2\":\"?([^,\"}]*).*/\1/" <<< "$1"; }
echo
echo "== binary LeNet on MNIST =="
printf 'test accuracy      %.2f %%  (best checkpoint, %s epochs)\n' "$(awk "BEGIN{print 100*$(field "$eval" test_accuracy)}")" "$(field "$train" epochs)"
printf 'model size         %s bytes packed (1 bit per binary weight; float32 equivalent %s bytes)\n' "$(field "$summary" model_bytes)" "$(field "$summary" float_bytes)"
printf 'training speed     %s images/s (batch 128)\n' "$(field "$train" train_images_per_s)"
printf 'inference speed    %s images/s (batch 128, evaluation mode)\n' "$(field "$eval" eval_images_per_s)"
echo "checkpoints, metrics.csv and training.png: $out/"
