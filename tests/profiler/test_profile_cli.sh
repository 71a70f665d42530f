#!/usr/bin/env bash
# `hylra profile` end to end on the real model, small: a 1-sample profile, then --resume to 2
# samples with the same text (accepted) and with another text of the same name (refused by
# its sha256, exit 1, the file untouched); `hylra report` on it, and its --layer range; an
# interrupted run (SIGINT) and the refusal of its incomplete file.
# Args: HYLRA; run from the source root.
set -u
hylra=$1
model=${HY_MODEL:-data/models/SmolLM2-135M-Instruct.Q4_1.gguf}
text=.cache/evaltext/devil.txt
. "$(dirname "$0")/../check_harness.sh"
cp "$text" "$dir/cal.txt"
opts=(-m "$model" --ctx 256 --queries 4 --k-grid 16,32 --threads 2)
check profile_one_sample "$hylra" profile "${opts[@]}" --data "$dir/cal.txt" --samples 1 -o "$dir/p.h5"
check resume_same_text "$hylra" profile "${opts[@]}" --data "$dir/cal.txt" --samples 2 -o "$dir/p.h5" --resume
cp "$dir/p.h5" "$dir/before.h5"
sed -i 's/the/THE/' "$dir/cal.txt"
check resume_other_text_refused sh -c "'$hylra' profile ${opts[*]} --data '$dir/cal.txt' --samples 3 -o '$dir/p.h5' --resume 2>'$dir/err'; test \$? -eq 1 && grep -q 'another calibration text' '$dir/err' && cmp -s '$dir/p.h5' '$dir/before.h5'"
# without --k the solver's default (256) moves into this profile's grid (16,32): k 32
check solve_default_k_into_grid sh -c "'$hylra' solve '$dir/p.h5' --budget 0.9 -o '$dir/dk.json' >/dev/null && grep -q '\"k\": 32,' '$dir/dk.json'"
check report_layer_0 "$hylra" report "$dir/p.h5" --layer 0 -o "$dir/r.html"
check report_layer_out_of_range_exit_2 sh -c "'$hylra' report '$dir/p.h5' --layer 99 -o '$dir/r2.html' 2>'$dir/err'; test \$? -eq 2 && grep -q 'expected 0..29' '$dir/err' && test ! -e '$dir/r2.html'"
check report_negative_layer_exit_2 sh -c "'$hylra' report '$dir/p.h5' --layer -1 -o '$dir/r2.html'; test \$? -eq 2"
# Ctrl-C: the run stops after the sample in progress, exit 130, the file is kept, marked
# incomplete (solve and report refuse it, naming --resume), and --resume finishes it
interrupt() {
  "$hylra" profile "${opts[@]}" --data "$text" --samples 40 -o "$dir/i.h5" 2>"$dir/ierr" &
  local pid=$! t=0
  while ! grep -q 'sample 1/40' "$dir/ierr" 2>/dev/null && [ $t -lt 600 ]; do sleep 0.1; t=$((t + 1)); done
  kill -INT $pid
  wait $pid
  local rc=$?
  test $rc -eq 130 && grep -q 'interrupted after' "$dir/ierr" && test -s "$dir/i.h5"
}
check interrupt_keeps_a_resumable_file interrupt
check solve_refuses_interrupted sh -c "'$hylra' solve '$dir/i.h5' --budget 0.9 -o '$dir/s.json' 2>&1 | grep -q 'interrupted); finish it with'"
check report_refuses_interrupted sh -c "'$hylra' report '$dir/i.h5' -o '$dir/r3.html' 2>&1 | grep -q 'interrupted'"
# numbers go through one strict parser (cli/cli_util.c): trailing characters, overflow and
# negatives are exit 2 with the option named, before the model is loaded
for bad in "--ctx 300abc" "--ctx 99999999999999999999" "--samples -1" "--seed -3" "--threads 2x"; do
  check "profile_refuses_${bad// /_}" sh -c "'$hylra' profile -m no/such.gguf --data x -o '$dir/n.h5' $bad 2>'$dir/err'; test \$? -eq 2 && grep -q -- '${bad%% *} ' '$dir/err' && grep -q expected '$dir/err'"
done
check pareto_refuses_ilp_points_3x sh -c "'$hylra' pareto '$dir/p.h5' -o '$dir/pp.json' --ilp-points 3x; test \$? -eq 2"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
