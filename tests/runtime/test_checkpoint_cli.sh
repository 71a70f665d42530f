#!/usr/bin/env bash
# tests/runtime: the CLI's pipeline on the tiny checkpoint directories transformers saved
# (tests/fixtures/hf_arch, with the byte-level BPE tokenizer of tests/fixtures/hf_tokenizer):
# info, tokenize, generate, profile, solve and eval run on each architecture's directory as
# they do on a GGUF file (issue 13's "every tiny reference model"). Random weights: only that
# each command works and says what it should is checked, not what the models generate.
# Args: HYLRA SOURCE_ROOT. Prints PASS/FAIL per case like the C harness.
set -u
hylra=$1 root=$2
. "$(dirname "$0")/../check_harness.sh"
# calibration and eval text: the fixture prose the tokenizer was trained for, repeated
text="$dir/text.txt"
for i in $(seq 1 60); do
  echo "Chapter $i. The attention of a transformer looks back over the whole context, and a"
  echo "top-k set of the keys it attends to can be shared across layers, heads and steps."
done > "$text"
for a in llama mistral qwen2 qwen3 gemma3; do
  m="$root/tests/fixtures/hf_arch/$a"
  check "${a}_info" sh -c "'$hylra' info '$m' | grep -q 'tokenizer.json, byte-level BPE'"
  check "${a}_tokenize" sh -c "'$hylra' tokenize -m '$m' -p 'the attention of a transformer' | grep -Eq '^[0-9]+( [0-9]+)+$'"
  check "${a}_generate" sh -c "'$hylra' generate -m '$m' -p 'the attention' -n 6 --seed 3 --temp 0.8 2>&1 | grep -q 'generated 6 tok'"
  check "${a}_profile" "$hylra" profile -m "$m" --data "$text" --ctx 256 --samples 2 --queries 16 \
    --k-grid 32,64 -o "$dir/$a.h5"
  # window-only models (mistral's layers all slide) have a dense floor: budget 1 always fits
  check "${a}_solve" "$hylra" solve "$dir/$a.h5" --budget 1 --k 32 --sensitive 1e9 --ctx 256 \
    -o "$dir/$a.json"
  check "${a}_eval" sh -c "'$hylra' eval -m '$m' --text '$text' --plan '$dir/$a.json' --ctx 256 --docs 2 --tf 8 --task agree 2>&1 | grep -q '^plan:'"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
