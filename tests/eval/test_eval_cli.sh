#!/usr/bin/env bash
# tests/eval: hylra eval and hylra sweep from the command line on the real model at small
# sizes: a run with a policy writes the table and JSON; a tiny sweep over a synthetic profile
# of SmolLM2's shape writes its table, JSON, SVG and plans, and --replot redraws them; the errors a user sees (bad
# option values exit 2, a bad policy spec or a missing plan file exit 1 naming it).
# Args: HYLRA BENCH_SOLVER. Prints PASS/FAIL per case like the C harness.
set -u
hylra=$1 bench=$2
. "$(dirname "$0")/../check_harness.sh"
check eval_policy_table_json sh -c "'$hylra' eval --ctx 256 --docs 1 --tf 4 --policy window:16 --json '$dir/e.json' -q > '$dir/t.txt' && grep -q '^window:16 ' '$dir/t.txt' && python3 -c \"import json; d=json.load(open('$dir/e.json')); assert d['format']=='hylra-eval' and len(d['methods'])==2\""
check eval_fit_names_fitted_value sh -c "'$hylra' eval --ctx 512 --docs 1 --tf 4 --policy quest:16,16 --fit 0.5 -q | grep -Eq '^quest:16,[0-9]+ +0\\.[45]'"
check eval_warns_few_docs sh -c "'$hylra' eval --ctx 256 --docs 1 --tf 4 -q --json '$dir/w.json' 2>&1 >/dev/null | grep -q 'CIs rest on fewer than 5 documents'"
check eval_unwritable_json_exit_2 sh -c "'$hylra' eval --ctx 256 --json '$dir/no/such/x.json' -q; test \$? -eq 2"
# the default model and eval text resolve outside the source root (cli_util.c hy_cli_repo_path)
hylra_abs=$(cd "$(dirname "$hylra")" && pwd)/$(basename "$hylra")
check eval_defaults_outside_source_root env -u HY_SOURCE_ROOT sh -c "cd '$dir' && '$hylra_abs' eval --ctx 256 --docs 1 --tf 4 --policy window:16 -q | grep -q '^window:16 '"
check eval_bad_ctx_exit_2 sh -c "'$hylra' eval --ctx 10 -q; test \$? -eq 2"
check eval_bad_task_exit_2 sh -c "out=\$('$hylra' eval --task agree,haystack -q 2>&1); test \$? -eq 2 && echo \"\$out\" | grep -q 'haystack'"
check eval_bad_fit_exit_2 sh -c "'$hylra' eval --fit 1.5 -q; test \$? -eq 2"
check eval_bad_policy_names_it sh -c "out=\$('$hylra' eval --ctx 256 --policy quest:16 -q 2>&1); test \$? -eq 1 && echo \"\$out\" | grep -q 'quest:16'"
check eval_missing_plan_names_file sh -c "out=\$('$hylra' eval --ctx 256 --plan '$dir/none.json' -q 2>&1); test \$? -eq 1 && echo \"\$out\" | grep -q 'none.json'"
check eval_ctx_above_model_exit_1 sh -c "out=\$('$hylra' eval --ctx 9000 -q 2>&1); test \$? -eq 1 && echo \"\$out\" | grep -q '8192'"
"$bench" write "$dir/p.h5" 30 3 1 >/dev/null || { echo "FAIL write synthetic profile"; exit 1; }
check sweep_tiny sh -c "'$hylra' sweep '$dir/p.h5' -o '$dir/sw' --ctx 512 --budgets 0.5 --docs 1 --tf 4 --task agree --ilp-time 2 --policies window:0 -q >/dev/null && grep -q 'Spearman' '$dir/sw/table.txt' && grep -q '<svg' '$dir/sw/sweep-agree.svg' && grep -q 'KL(dense' '$dir/sw/sweep-kl.svg' && test -s '$dir/sw/ctx512.json' && ls '$dir/sw/plans' | grep -q 'ilp'"
check sweep_replot_redraws sh -c "rm '$dir/sw/sweep-kl.svg' && '$hylra' sweep --replot '$dir/sw' | grep -q 'pooled: Spearman' && grep -q 'KL(dense' '$dir/sw/sweep-kl.svg'"
check sweep_replot_empty_dir_exit_1 sh -c "mkdir -p '$dir/empty' && '$hylra' sweep --replot '$dir/empty'; test \$? -eq 1"
check sweep_bad_budget_exit_2 sh -c "'$hylra' sweep '$dir/p.h5' -o '$dir/x' --budgets 1.5; test \$? -eq 2"
check sweep_bad_policy_exit_2 sh -c "'$hylra' sweep '$dir/p.h5' -o '$dir/x' --policies quest:16; test \$? -eq 2"
check sweep_needs_output_exit_2 sh -c "'$hylra' sweep '$dir/p.h5'; test \$? -eq 2"
echo "$pass passed, $fail failed"
test "$fail" -eq 0
