#!/usr/bin/env bash
# tests/dpsolver: the solver CLI end to end on a synthetic profile: solve (dp, ilp, head),
# plan show (v1 and v2 modes), pareto (json + svg), the byte-only cost model (--launch-us 0),
# peer-policy plans (plan policy, --fit), and the errors a user sees (infeasible budget, bad
# option, bad policy spec).
# Args: BENCH_SOLVER HYLRA. Prints PASS/FAIL per case like the C harness.
set -u
bench=$1 hylra=$2
. "$(dirname "$0")/../check_harness.sh"
"$bench" write "$dir/p.h5" 12 2 5 >/dev/null || { echo "FAIL write synthetic profile"; exit 1; }
check solve_dp sh -c "'$hylra' solve '$dir/p.h5' --ctx 32768 --budget 0.7 -o '$dir/dp.json' | grep -q 'speedup'"
check solve_ilp_head sh -c "'$hylra' solve '$dir/p.h5' --ctx 32768 --budget 0.7 --method ilp --granularity head --time-limit 20 -o '$dir/ilp.json' | grep -q 'solver ilp'"
check plan_show_table sh -c "'$hylra' plan show '$dir/ilp.json' | grep -Eq '^ +11  '"
check plan_is_json sh -c "python3 -c \"import json,sys; d=json.load(open('$dir/dp.json')); sys.exit(0 if d['format']=='hylra-plan' and len(d['units'])==24 else 1)\""
check infeasible_names_cheapest sh -c "out=\$('$hylra' solve '$dir/p.h5' --ctx 32768 --budget 0.05 -o '$dir/x.json' 2>&1); test \$? -eq 1 && echo \"\$out\" | grep -q 'cheapest feasible plan costs' && test ! -e '$dir/x.json'"
# the synthetic profile (version 1 layout) has no sketch statistics: score is offered and, at
# a tight budget, cheaper than select; the sketches are not offered (their loss is unknown)
check solve_selectors_score sh -c "'$hylra' solve '$dir/p.h5' --ctx 32768 --budget 0.5 --launch-us 0 --selectors score,sketch8 -o '$dir/sel.json' >/dev/null && '$hylra' plan show '$dir/sel.json' | grep -q ' 0 sketch8' && grep -q '\"version\": 3' '$dir/sel.json'"
check solve_selectors_bad_exit_2 sh -c "'$hylra' solve '$dir/p.h5' --budget 0.5 --selectors sketch2 -o '$dir/x.json'; test \$? -eq 2 && test ! -e '$dir/x.json'"
# outputs are checked before any work: an unwritable path is exit 2, and nothing is left
check solve_unwritable_output_exit_2 sh -c "'$hylra' solve '$dir/p.h5' --budget 0.7 -o '$dir/no/such/dir/x.json' 2>'$dir/e'; test \$? -eq 2 && grep -q 'cannot write' '$dir/e'"
check pareto_unwritable_svg_exit_2 sh -c "'$hylra' pareto '$dir/p.h5' -o '$dir/pp.json' --svg '$dir/no/such/x.svg'; test \$? -eq 2 && test ! -e '$dir/pp.json'"
check solve_missing_budget_named sh -c "'$hylra' solve '$dir/p.h5' -o '$dir/x.json' 2>'$dir/e'; test \$? -eq 2 && grep -q 'missing --budget' '$dir/e'"
check infeasible_names_knobs sh -c "'$hylra' solve '$dir/p.h5' --ctx 32768 --budget 0.05 -o '$dir/x.json' 2>&1 | grep -q 'floors with other settings.*--launch-us 0: '"
check bad_granularity_exit_2 sh -c "'$hylra' solve '$dir/p.h5' --budget 0.5 --granularity cube -o '$dir/x.json'; test \$? -eq 2"
check pareto_bad_loss_exit_2 sh -c "'$hylra' pareto '$dir/p.h5' --loss recal -o '$dir/x.json'; test \$? -eq 2 && test ! -e '$dir/x.json'"
check pareto_bad_granularity_exit_2 sh -c "'$hylra' pareto '$dir/p.h5' --granularity heads -o '$dir/x.json'; test \$? -eq 2"
check solve_k_between_grid_points sh -c "'$hylra' solve '$dir/p.h5' --ctx 32768 --budget 0.7 --k 362 -o '$dir/k362.json' >/dev/null && grep -q '\"k\": 362' '$dir/k362.json'"
check solve_k_beyond_grid_named sh -c "'$hylra' solve '$dir/p.h5' --ctx 32768 --budget 0.7 --k 5000 -o '$dir/x.json' 2>&1 | grep -q 'k 5000 is outside the profile.s k grid'; test ! -e '$dir/x.json'"
check solve_bad_k_exit_2 sh -c "'$hylra' solve '$dir/p.h5' --budget 0.5 --k 12x -o '$dir/x.json'; test \$? -eq 2"
check pareto_json_svg sh -c "'$hylra' pareto '$dir/p.h5' --ctx 32768 --ilp-points 3 --time-limit 5 -o '$dir/pa.json' && grep -q '<svg' '$dir/pa.svg' && python3 -c \"import json; d=json.load(open('$dir/pa.json')); assert d['dp'] and d['ilp']\""
check launch_us_zero_reaches_lower_budget sh -c "'$hylra' solve '$dir/p.h5' --ctx 4096 --budget 0.5 --launch-us 3 -o '$dir/x.json' >/dev/null 2>&1; test \$? -eq 1 && '$hylra' solve '$dir/p.h5' --ctx 4096 --budget 0.5 --launch-us 0 -o '$dir/b.json' | grep -q speedup"
# one cost-model default across commands (hy_cli_launch_s): without --costs or --launch-us,
# solve and plan policy price KV bytes only, as eval and sweep do
check default_launch_is_bytes_only sh -c "'$hylra' solve '$dir/p.h5' --ctx 4096 --budget 0.5 -o '$dir/d0.json' >/dev/null && python3 -c \"import json,sys; a=json.load(open('$dir/d0.json')); b=json.load(open('$dir/b.json')); sys.exit(0 if a['units']==b['units'] else 1)\" && '$hylra' plan policy window:0 --shape 12,6,2,64 --ctx 4096 --fit 0.25 -o '$dir/w0.json' | grep -q '^window:1020 at context 4096'"
check launch_us_negative_exit_2 sh -c "'$hylra' solve '$dir/p.h5' --budget 0.5 --launch-us -1 -o '$dir/y.json'; test \$? -eq 2 && test ! -e '$dir/y.json'"
check pareto_launch_us_junk_exit_2 sh -c "'$hylra' pareto '$dir/p.h5' --launch-us 3us -o '$dir/y.json'; test \$? -eq 2"
# a version 2 plan: layer 0 window, the others bounds on pages of 16 (edited from a solved plan)
python3 - "$dir/dp.json" "$dir/v2.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["granularity"], d["page_size"] = "page", 16
for u in d["units"]:
    u.pop("src", None)
    u["mode"], u["refresh"] = ("window", None) if u["layer"] == 0 else ("bounds", 2)
    if u["refresh"] is None: del u["refresh"]
json.dump(d, open(sys.argv[2], "w"), indent=1)
PY
check plan_show_v2_modes sh -c "'$hylra' plan show '$dir/v2.json' > '$dir/show' && grep -q '0 dense, 0 select, 0 reuse, 2 window, 22 bounds' '$dir/show' && grep -q 'BOUNDS/2' '$dir/show' && grep -Eq '^ +0  window' '$dir/show'"
check plan_show_v1_file sh -c "sed 's/\"version\": 3/\"version\": 1/' '$dir/dp.json' > '$dir/v1.json' && '$hylra' plan show '$dir/v1.json' | grep -q ' 0 window, 0 bounds'"
check plan_show_v2_mode_in_v1_refused sh -c "sed 's/\"version\": 3/\"version\": 1/' '$dir/v2.json' > '$dir/v1b.json'; '$hylra' plan show '$dir/v1b.json' 2>&1 | grep -q 'units\[0\].mode \"window\" needs plan version 2'"
# peer policies as plans (docs/policies.md)
check policy_quest_plan sh -c "'$hylra' plan policy quest:16,512 --shape 12,6,2,64 --ctx 4096 -o '$dir/q.json' | grep -q 'quest:16,512 at context 4096' && '$hylra' plan show '$dir/q.json' | grep -q '0 dense, 0 select, 0 reuse, 0 window, 24 bounds'"
check policy_tidal_from_profile sh -c "'$hylra' plan policy tidal:2,6,256 --profile '$dir/p.h5' --ctx 4096 -o '$dir/t.json' && python3 -c \"import json,sys; d=json.load(open('$dir/t.json')); m=[u['mode'] for u in d['units']]; sys.exit(0 if d['solver']['method']=='policy:tidal' and d['model']['name'].startswith('synthetic') and m.count('select')==4 and m.count('dense')==4 else 1)\""
check policy_fit_window sh -c "'$hylra' plan policy window:0 --shape 12,6,2,64 --ctx 4096 --launch-us 0 --fit 0.25 -o '$dir/w.json' | grep -q '^window:1020 at context 4096'"
check policy_fit_unreachable_names_cheapest sh -c "'$hylra' plan policy window:0 --shape 12,6,2,64 --ctx 4096 --launch-us 3 --fit 0.5 -o '$dir/z.json' 2>&1 | grep -q 'cheapest reachable fraction is 0.7'; test ! -e '$dir/z.json'"
check policy_bad_spec_exit_2 sh -c "'$hylra' plan policy quest:16 --shape 12,6,2,64 --ctx 4096 -o '$dir/z.json' 2>&1 | grep -q 'expected quest:P,k'; '$hylra' plan policy quest:16 --shape 12,6,2,64 --ctx 4096 -o '$dir/z.json'; test \$? -eq 2"
check policy_bad_shape_exit_2 sh -c "'$hylra' plan policy dense --shape 12,6,-2,64 --ctx 4096 -o '$dir/z.json'; test \$? -eq 2"
# --ctx beyond the model's trained context (the synthetic profile says 32768): a warning, and
# the plan records the trained context for plan show; within it, no warning
check ctx_beyond_trained_warns sh -c "'$hylra' solve '$dir/p.h5' --ctx 65536 --budget 0.7 -o '$dir/long.json' 2>'$dir/e' >/dev/null && grep -q 'beyond synthetic.*trained context (32768 tokens)' '$dir/e' && grep -q '\"ctx_train\": 32768' '$dir/long.json' && '$hylra' plan show '$dir/long.json' | grep -q '^warning   context 65536 is beyond'"
check ctx_within_trained_quiet sh -c "'$hylra' solve '$dir/p.h5' --ctx 32768 --budget 0.7 -o '$dir/in.json' 2>'$dir/e' >/dev/null && ! grep -q 'warning' '$dir/e' && ! '$hylra' plan show '$dir/in.json' | grep -q '^warning'"
# plan export (docs/plan-export.md): each format read back against the plan's units
check export_tidal_roundtrip sh -c "'$hylra' plan export '$dir/t.json' --format tidal -o '$dir/t.tidal' && python3 -c \"import json,sys; p=json.load(open('$dir/t.json')); e=json.load(open('$dir/t.tidal')); H=p['model']['n_kv_heads']; m=[p['units'][l*H]['mode'] for l in range(len(p['units'])//H)]; sys.exit(0 if e['full_attention_layers']==[l for l in range(len(m)) if m[l]=='dense'] and e['token_selection_layers']==[l for l in range(len(m)) if m[l]=='select'] and e['top_k']==p['k'] else 1)\""
check export_ucm_roundtrip sh -c "'$hylra' plan export '$dir/t.json' --format ucm -o '$dir/t.ucm' && python3 -c \"import json,sys; p=json.load(open('$dir/t.json')); e=json.load(open('$dir/t.ucm')); H=p['model']['n_kv_heads']; u=p['units']; r=[u[l*H]['src']['layer'] if u[l*H]['mode']=='reuse' else -1 for l in range(len(u)//H)]; sys.exit(0 if e['top_k_index_reuse']==r and e['rollback_layers']==[l for l in range(len(r)) if u[l*H]['mode']=='dense'] else 1)\""
check export_duo_mask sh -c "'$hylra' plan export '$dir/w.json' --format duo -o '$dir/w.tsv' && python3 -c \"import sys; rows=[l.split('\\t') for l in open('$dir/w.tsv').read().split('\\n') if l]; sys.exit(0 if len(rows)==12 and all(r==['0','0'] for r in rows) else 1)\""
check export_tidal_refuses_other_shapes sh -c "'$hylra' plan export '$dir/w.json' --format tidal -o '$dir/x.tidal' 2>'$dir/e'; test \$? -eq 1 && grep -q 'layer 0 is window' '$dir/e' && test ! -e '$dir/x.tidal'"
check export_page_plan_refused sh -c "'$hylra' plan export '$dir/q.json' --format ucm -o '$dir/x.ucm' 2>'$dir/e'; test \$? -eq 1 && grep -q 'granularity is page' '$dir/e'"
check export_bad_format_exit_2 sh -c "'$hylra' plan export '$dir/t.json' --format vllm -o '$dir/x'; test \$? -eq 2"
check svg_is_xml python3 -c "import xml.etree.ElementTree as E; E.parse('$dir/pa.svg')"
echo "$pass passed, $fail failed"
test "$fail" -eq 0
