#!/bin/bash
# Plots training and validation loss of two runs of one config, fp32 and bf16, in one
# figure (docs/bf16_kjv_loss.png): bash scripts/plot_precision_check.sh FP32_RUN BF16_RUN OUT.png
# Needs gnuplot and python3.
set -euo pipefail
fp32=$1 bf16=$2 out=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for run in fp32 bf16; do
  python3 - "${!run}/metrics.jsonl" "$tmp/$run" <<'PY'
import json, sys
train, valid = open(sys.argv[2] + ".train", "w"), open(sys.argv[2] + ".valid", "w")
for line in open(sys.argv[1]):
    j = json.loads(line)
    if "loss" in j: print(j["step"], j["loss"], file=train)
    if "val_loss" in j: print(j["step"], j["val_loss"], file=valid)
PY
done
gnuplot <<GP
set terminal pngcairo size 900,560 noenhanced
set output "$out"
set title "KJV quickstart (configs/kjv_sgatlin.json, 700 steps): fp32 vs bf16"
set xlabel "optimizer step"; set ylabel "loss (nats/token)"
set yrange [3:7]; set grid; set key top right
plot "$tmp/fp32.train" w l lc rgb "#1f77b4" lw 1 title "fp32 train", \
     "$tmp/bf16.train" w l lc rgb "#d62728" lw 1 title "bf16 train", \
     "$tmp/fp32.valid" w lp lc rgb "#1f77b4" lw 2 pt 7 title "fp32 validation", \
     "$tmp/bf16.valid" w lp lc rgb "#d62728" lw 2 pt 5 title "bf16 validation"
GP
echo "wrote $out"
