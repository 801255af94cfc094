#!/usr/bin/env bash
# Planted facts end to end: generate a story corpus with 12 planted noun->adjective facts,
# prepare it, train a small sgatlin model (a few minutes on 2 cores), then patch router
# decisions with `sgatlin intervene` and report fact accuracy and recovered effect; also
# writes gating records (`scope`) and a neuron report (OUT/scope/report.html).
#
#   scripts/planted_facts.sh [OUT_DIR]        (default runs/planted_facts)
#   env: BUILD (build dir, default build), THREADS (default 2), STEPS (default 1500)
# Needs a built tree (scripts/build.sh) and jq for the report.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
THREADS=${THREADS:-2}
STEPS=${STEPS:-1500}
OUT=${1:-runs/planted_facts}
BIN=$BUILD/sgatlin
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

"$BUILD/planted_facts" --out "$OUT/src" --stories 6000 --seed 0
"$BIN" data prepare --corpus "$OUT/src/corpus.txt" --out "$OUT/data" --vocab-size 512 \
  --threads "$THREADS"

cat > "$OUT/planted_sgatlin.json" <<JSON
{"name": "planted_sgatlin", "seed": 0,
 "model": {"vocab_size": 512, "d_model": 128, "d_heads": 32, "n_layers": 2,
           "ffw": {"type": "sgatlin", "d_ffw": 256, "n_channels": 4, "knn": 4, "d_key": 32,
                   "router_type": "product_dense", "activation": "identity"}},
 "data": {"train": "$OUT/data/train.bin", "valid": "$OUT/data/valid.bin",
          "tokenizer": "$OUT/data/tokenizer.model", "batch_size": 32, "seq_len": 64},
 "optimizer": {"learning_rate": 3e-3, "warmup_steps": 100},
 "max_steps": $STEPS, "log_every": 50, "eval_every": 500, "checkpoint_every": 500,
 "eval_batches": 8, "workdir": "$OUT"}
JSON
rm -rf "$OUT/planted_sgatlin"
"$BIN" train --threads "$THREADS" --config "$OUT/planted_sgatlin.json" --workdir "$OUT"
RUN=$OUT/planted_sgatlin

"$BIN" eval --threads "$THREADS" --checkpoint "$RUN" --json > "$OUT/eval.json"
# Patch the noun (every position where the prompts differ), then the last prompt token
# ("was", where the adjective is predicted), each time in every layer; then per layer.
run_intervene() {  # name, then intervene options
  local name=$1
  shift
  "$BIN" intervene --threads "$THREADS" --checkpoint "$RUN" --pairs "$OUT/src/pairs.jsonl" \
    --measure -1 --json "$@" > "$OUT/intervene_$name.json"
}
run_intervene noun_all --position diff
run_intervene last_all --position -1
run_intervene last_layer0 --position -1 --layers 0
run_intervene last_layer1 --position -1 --layers 1
# Gating records of 32 validation windows and the neuron report built from them.
"$BIN" scope --threads "$THREADS" --checkpoint "$RUN" --out "$OUT/scope" --sequences 32
"$BIN" report --scope "$OUT/scope"

{
  echo "planted facts report ($(date -u +%Y-%m-%dT%H:%MZ), $STEPS steps)"
  jq -r '"eval: loss \(.loss|.*1e4|round/1e4) acc \(.acc|.*1e4|round/1e4) perplexity \(.perplexity|.*1e3|round/1e3)"' "$OUT/eval.json"
  for name in noun_all last_all last_layer0 last_layer1; do
    jq -r --arg n "$name" '.mean | "\($n): pairs \(.pairs) fact_accuracy \(.fact_accuracy|.*1e4|round/1e4) correct_clean \(.correct_clean|.*1e4|round/1e4) d_clean \(.d_clean|.*1e3|round/1e3) d_cf \(.d_cf|.*1e3|round/1e3) d_patched \(.d_patched|.*1e3|round/1e3) recovered \(.recovered|.*1e4|round/1e4) rank_flip \(.rank_flip|.*1e4|round/1e4)"' \
      "$OUT/intervene_$name.json"
  done
} | tee "$OUT/report.txt"
