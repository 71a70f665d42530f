#!/usr/bin/env bash
# tests/dpsolver: the solver CLI end to end on a synthetic profile: solve (dp, ilp, head),
# plan show, pareto (json + svg), and the errors a user sees (infeasible budget, bad option).
# Args: BENCH_SOLVER HYLRA. Prints PASS/FAIL per case like the C harness.
set -u
bench=$1 hylra=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
pass=0 fail=0
check() { # name, command...
  local name=$1; shift
  if "$@" >"$dir/out" 2>&1; then echo "PASS $name"; pass=$((pass + 1))
  else echo "FAIL $name"; cat "$dir/out"; fail=$((fail + 1)); fi
}
"$bench" write "$dir/p.h5" 12 2 5 >/dev/null || { echo "FAIL write synthetic profile"; exit 1; }
check solve_dp sh -c "'$hylra' solve '$dir/p.h5' --ctx 32768 --budget 0.7 -o '$dir/dp.json' | grep -q 'speedup'"
check solve_ilp_head sh -c "'$hylra' solve '$dir/p.h5' --ctx 32768 --budget 0.7 --method ilp --granularity head --time-limit 20 -o '$dir/ilp.json' | grep -q 'solver ilp'"
check plan_show_table sh -c "'$hylra' plan show '$dir/ilp.json' | grep -Eq '^ +11  '"
check plan_is_json sh -c "python3 -c \"import json,sys; d=json.load(open('$dir/dp.json')); sys.exit(0 if d['format']=='hylra-plan' and len(d['units'])==24 else 1)\""
check infeasible_names_cheapest sh -c "out=\$('$hylra' solve '$dir/p.h5' --ctx 32768 --budget 0.05 -o '$dir/x.json' 2>&1); test \$? -eq 1 && echo \"\$out\" | grep -q 'cheapest feasible plan costs' && test ! -e '$dir/x.json'"
check bad_granularity_exit_2 sh -c "'$hylra' solve '$dir/p.h5' --budget 0.5 --granularity cube -o '$dir/x.json'; test \$? -eq 2"
check pareto_bad_loss_exit_2 sh -c "'$hylra' pareto '$dir/p.h5' --loss recal -o '$dir/x.json'; test \$? -eq 2 && test ! -e '$dir/x.json'"
check pareto_bad_granularity_exit_2 sh -c "'$hylra' pareto '$dir/p.h5' --granularity heads -o '$dir/x.json'; test \$? -eq 2"
check solve_bad_k_exit_2 sh -c "'$hylra' solve '$dir/p.h5' --budget 0.5 --k 12x -o '$dir/x.json'; test \$? -eq 2"
check pareto_json_svg sh -c "'$hylra' pareto '$dir/p.h5' --ctx 32768 --ilp-points 3 --time-limit 5 -o '$dir/pa.json' && grep -q '<svg' '$dir/pa.svg' && python3 -c \"import json; d=json.load(open('$dir/pa.json')); assert d['dp'] and d['ilp']\""
check svg_is_xml python3 -c "import xml.etree.ElementTree as E; E.parse('$dir/pa.svg')"
echo "$pass passed, $fail failed"
test "$fail" -eq 0
