#!/usr/bin/env bash
# The main job on the built-in default: installs deps, builds, prepares the King James
# Bible (Debian's bible-kjv), trains configs/kjv_sgatlin.json (~10 min on 2 cores),
# prints validation perplexity against the unigram baseline, and samples from the model.
# Re-running it continues an interrupted run and skips finished steps.
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=${CONFIG:-configs/kjv_sgatlin.json}
bash scripts/build.sh
SG=./build/sgatlin

if [ ! -f data/kjv/manifest.json ]; then
  $SG data prepare --corpus kjv --out data/kjv --vocab-size 4096
fi

name=$(sed -n 's/^ *"name": *"\([^"]*\)".*/\1/p' "$CONFIG" | head -n 1)
run=runs/$name
if [ -f "$run/summary.json" ]; then
  echo "$run already finished; delete it to train again"
elif [ -d "$run/checkpoints" ]; then
  $SG train --resume "$run"
else
  $SG train --config "$CONFIG" --workdir runs
fi

echo
echo "== $run"
sed -n 's/^ *"\(val_loss\|val_perplexity\|tokens_per_s\|wall_s\)": \([^,]*\),\?$/  \1 \2/p' "$run/summary.json"
echo "  unigram baseline loss: $(sed -n 's/^ *"unigram_valid_loss": \([^,]*\),\?$/\1/p' data/kjv/manifest.json)"
echo
for prompt in "In the beginning" "And the LORD said unto Moses" "Blessed are the"; do
  echo "== sample: $prompt"
  $SG generate --checkpoint "$run" --prompt "$prompt" --max-tokens 60 --seed 1
  echo
done
