#!/usr/bin/env bash
# The interactive report end to end in a real browser: planted-facts corpus -> 8-step
# 2-layer sgatlin and peer models -> scope (4 windows) -> report -> tools/report/browser_test.mjs in headless
# Debian Chromium (no console errors, one map point per token, token search, lens tokens).
# Usage: report_browser_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
BUILD=$1
SRC=$2
export OMP_WAIT_POLICY=passive
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$BUILD/planted_facts" --out "$work/src" --stories 400 > /dev/null
"$BUILD/sgatlin" data prepare --corpus "$work/src/corpus.txt" --out "$work/data" --vocab-size 400 2> /dev/null
# sgatlin (C tables) and peer (one shared table: the lens rows are per neuron, not channel).
for ffw in '"type": "sgatlin", "d_ffw": 64, "n_channels": 2, "knn": 4, "d_key": 16' \
           '"type": "peer", "d_ffw": 64, "n_channels": 2, "knn": 4, "d_key": 16'; do
  name=$(echo "$ffw" | cut -d'"' -f4)
  cat > "$work/$name.json" <<JSON
{"name": "$name", "seed": 3,
 "model": {"vocab_size": 400, "d_model": 32, "d_heads": 16, "n_layers": 2, "ffw": {$ffw}},
 "data": {"train": "$work/data/train.bin", "valid": "$work/data/valid.bin",
          "tokenizer": "$work/data/tokenizer.model", "batch_size": 4, "seq_len": 64},
 "optimizer": {"learning_rate": 3e-3, "warmup_steps": 2},
 "max_steps": 8, "log_every": 4, "eval_every": 8, "checkpoint_every": 8, "eval_batches": 1}
JSON
  echo "== $name"
  "$BUILD/sgatlin" train --threads 1 --config "$work/$name.json" --workdir "$work/runs" > /dev/null 2>&1
  "$BUILD/sgatlin" scope --threads 1 --checkpoint "$work/runs/$name" --out "$work/scope_$name" --sequences 4 2> /dev/null
  "$BUILD/sgatlin" report --threads 1 --scope "$work/scope_$name" > /dev/null
  node "$SRC/tools/report/browser_test.mjs" "$work/scope_$name" "$work/scope_$name"
done
