#!/usr/bin/env bash
# The KJV facts case study: mine "NAME the son of FATHER" facts from the prepared KJV
# (`sgatlin facts`), then patch router decisions with `sgatlin intervene` at the name
# (every position where the prompts differ) and at "of" (the last prompt token, where the
# father is predicted), in all layers and in each layer; prints a summary table.
# Usage: scripts/kjv_facts.sh [RUN_DIR] [OUT]   (defaults: runs/kjv_sgatlin, runs/kjv_facts)
# Needs a trained KJV run (scripts/quickstart.sh), data/kjv and jq.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${1:-runs/kjv_sgatlin}
OUT=${2:-runs/kjv_facts}
BIN=./build/sgatlin
THREADS=${THREADS:-1}
export OMP_WAIT_POLICY=passive
LAYERS=$(jq '.model.n_layers' "$RUN/config.json")
"$BIN" facts --data data/kjv --out "$OUT/facts"
run_intervene() {  # name, then intervene options
  local name=$1
  shift
  "$BIN" intervene --threads "$THREADS" --checkpoint "$RUN" --pairs "$OUT/facts/pairs.jsonl" \
    --measure -1 --json "$@" > "$OUT/$name.json"
}
names=()
for where in name of; do
  pos=$([ "$where" = name ] && echo diff || echo -1)
  run_intervene "${where}_all" --position "$pos"
  names+=("${where}_all")
  for ((l = 0; l < LAYERS; l++)); do
    run_intervene "${where}_layer$l" --position "$pos" --layers "$l"
    names+=("${where}_layer$l")
  done
done
# Per run: over all pairs and over the pairs whose two facts the model gets right ("known"),
# the mean of the per-pair recovered and the recovered of the mean margins
# (mean d_clean - mean d_patched) / (mean d_clean - mean d_cf), which small margins
# cannot blow up.
SUMMARY='def r(x): (x * 1000 | round) / 1000;
  def agg(p): (p | length) as $n | if $n == 0 then "n 0" else
    ([p[].d_clean] | add / $n) as $c | ([p[].d_cf] | add / $n) as $f | ([p[].d_patched] | add / $n) as $q |
    ([p[] | select(.recovered != null) | .recovered]) as $rs |
    "n \($n) d_clean \(r($c)) d_patched \(r($q)) recovered_of_means \(r(($c - $q) / ($c - $f))) mean_recovered \(r($rs | add / length)) rank_flip \(r([p[] | select(.rank_flip)] | length / $n))" end;
  "\($name): fact_accuracy \(r(.mean.fact_accuracy)) | all: \(agg(.pairs)) | known: \(agg([.pairs[] | select(.correct_clean and .correct_cf)]))"'
{
  echo "KJV facts case study ($(date -u +%Y-%m-%dT%H:%MZ)), $RUN"
  for name in "${names[@]}"; do jq -r --arg name "$name" "$SUMMARY" "$OUT/$name.json"; done
} | tee "$OUT/summary.txt"
