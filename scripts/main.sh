#!/usr/bin/env bash
# The main job: fetch MNIST (once, cached), build, train the binary LeNet, pack its best checkpoint, classify the
# MNIST test set with the packed model, and print test accuracy, model size and speed. About 6-8 minutes on 2 cores.
# Usage: bash scripts/main.sh [extra LeNet train options, e.g. --epochs 5]
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

data=$(bash scripts/fetch-mnist.sh)
dotnet build examples/LeNet -c Release -v quiet -nologo
out=runs/lenet
mkdir -p runs
lenet() { dotnet run -c Release --no-build --project examples/LeNet -- "$@"; }

lenet train --data "$data" --out "$out" --json "$@" | tee "$out.train.log"
lenet convert --out "$out" --json | tee "$out.convert.log"
lenet infer --data "$data" --out "$out" --json | tee "$out.infer.log"

train=$(tail -n 1 "$out.train.log"); convert=$(tail -n 1 "$out.convert.log"); infer=$(tail -n 1 "$out.infer.log")
field() { sed -E "s/.*\"$2\":\"?([^,\"}]*).*/\1/" <<< "$1"; }
echo
echo "== binary LeNet on MNIST =="
printf 'test accuracy      %.2f %%  (packed model of the best checkpoint; %s epochs; float path %.2f %%)\n' \
  "$(awk "BEGIN{print 100*$(field "$infer" test_accuracy)}")" "$(field "$train" epochs)" "$(awk "BEGIN{print 100*$(field "$train" best_test_accuracy)}")"
printf 'model size         %s bytes packed (.bnnx, 1 bit per binary weight; the training checkpoint is %s bytes)\n' \
  "$(field "$convert" model_bytes)" "$(field "$convert" checkpoint_bytes)"
printf 'training speed     %s images/s (batch 128, mean over epochs)\n' "$(field "$train" train_images_per_s)"
printf 'inference speed    %s images/s (packed model, batch 128)\n' "$(field "$infer" images_per_s)"
echo "checkpoints, lenet.bnnx, metrics.csv and training.png: $out/"
