#!/usr/bin/env bash
# Reproduce the test-generation benchmark of issue #5: codeloop gen-tests (offline engine)
# against Pynguin 0.48.0 (DynaMOSA) on the 6 subjects of the shared testgen-bench harness
# (inflection, humanize.number, toolz.itertoolz, boltons.strutils, slugify.slugify,
# semver.version), both suites measured by the harness the same way.
#
#   bench/testgen/run.sh [STEP...]      STEP: setup pynguin codeloop mutation report (default: all)
#
#   setup     harness venvs + pinned subjects under $TESTGEN_WORK (run_bench.py setup), and a
#             cosmic-ray venv ($TESTGEN_WORK/mutation-venv)
#   pynguin   Pynguin, 60 s search budget, seeds $PYNGUIN_SEEDS (default 1), each run inside
#             bubblewrap (sandboxed.sh via run_pynguin_sandboxed.sh) -> results-pynguin.csv
#             (25-600 s per module on 2 cores, boltons.strutils longer; wall limit 2400 s per
#             run instead of the harness's budget + 900 s, which boltons.strutils exceeded)
#   codeloop  `codeloop gen-tests {module} --project {project} --out {outdir} --budget 20
#             --seed 1` through the harness's --cmd (codeloop sandboxes the code under test
#             itself) -> results-codeloop.csv
#   mutation  cosmic-ray mutation score of the seed-1 suites of $MUT_TOOLS (default: pynguin
#             and codeloop) on $MUT_MODULES (default slugify.slugify,inflection) ->
#             results-mutation.csv; with MUT_TOOLS=codeloop only codeloop's rows are replaced
#             and Pynguin's stay (no Pynguin suites needed on disk)
#   report    results.md from the CSVs (+ observations.md)
#
# Each measuring step REPLACES its CSV (the mutation step only the measured tools' rows when
# MUT_TOOLS names one tool). Environment:
#   TESTGEN_WORK   scratch (venvs, runs)        default /tmp/testgen-bench
#   TESTGEN_BENCH  the shared harness folder    default /work/shared/tools/testgen-bench
#   BENCH_PYTHON   interpreter for the harness and the venvs   default python3 (resolved)
#   CODELOOP       the codeloop executable      default <repo>/.venv/bin/codeloop
#   MUT_MODULES, MUT_MAX_MINUTES  mutation subjects and per-suite cosmic-ray time cap (30 min)
#   MUT_TOOLS      tools whose suites the mutation step measures   default pynguin,codeloop
# Needs /usr/bin/bwrap (Debian package bubblewrap) and pip access for the pinned packages.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
export TESTGEN_BENCH=${TESTGEN_BENCH:-/work/shared/tools/testgen-bench}
export TESTGEN_WORK=${TESTGEN_WORK:-/tmp/testgen-bench}
# resolve a pyenv shim to the real interpreter once (the venvs point at its prefix)
BENCH_PYTHON=$("${BENCH_PYTHON:-python3}" -c 'import sys; print(sys.executable)')
export BENCH_PYTHON
CODELOOP=${CODELOOP:-$REPO/.venv/bin/codeloop}
PYNGUIN_SEEDS=${PYNGUIN_SEEDS:-1}
MUT_MODULES=${MUT_MODULES:-slugify.slugify,inflection}
MUT_MAX_MINUTES=${MUT_MAX_MINUTES:-30}
MUT_TOOLS=${MUT_TOOLS:-pynguin,codeloop}
STEPS=("$@")
[ ${#STEPS[@]} -gt 0 ] || STEPS=(setup pynguin codeloop mutation report)

step_setup() {
  "$BENCH_PYTHON" "$TESTGEN_BENCH/run_bench.py" setup --work "$TESTGEN_WORK"
  if [ ! -x "$TESTGEN_WORK/mutation-venv/bin/cosmic-ray" ]; then
    "$BENCH_PYTHON" -m venv "$TESTGEN_WORK/mutation-venv"
    "$TESTGEN_WORK/mutation-venv/bin/pip" install -q cosmic-ray==8.7.0
  fi
}

step_pynguin() {
  rm -f "$HERE/results-pynguin.csv"
  "$HERE/run_pynguin_sandboxed.sh" --budget 60 --seeds "$PYNGUIN_SEEDS" --timeout 2400 \
    --csv "$HERE/results-pynguin.csv"
}

step_codeloop() {
  rm -f "$HERE/results-codeloop.csv"
  local ver
  ver=$("$REPO/.venv/bin/python" -c 'import codeloop; print(codeloop.__version__)' 2>/dev/null || echo "?")
  "$BENCH_PYTHON" "$TESTGEN_BENCH/run_bench.py" run --work "$TESTGEN_WORK" --tool codeloop \
    --tool-version "$ver" --budget 20 --seeds 1 --csv "$HERE/results-codeloop.csv" \
    --cmd "$CODELOOP gen-tests {module} --project {project} --out {outdir} --budget {budget} --seed {seed}"
}

step_mutation() {
  local m tool replace=()
  if [ "$MUT_TOOLS" = "pynguin,codeloop" ] || [ "$MUT_TOOLS" = "codeloop,pynguin" ]; then
    rm -f "$HERE/results-mutation.csv"
  else
    replace=(--replace)
  fi
  for m in ${MUT_MODULES//,/ }; do
    for tool in ${MUT_TOOLS//,/ }; do
      local tests=$TESTGEN_WORK/runs/$tool/$m/seed1/tests
      if [ -n "$(find "$tests" -name 'test*.py' 2>/dev/null | head -n1)" ]; then
        "$BENCH_PYTHON" "$HERE/mutation.py" "$m" "$tests" --tool "$tool" \
          --csv "$HERE/results-mutation.csv" --python "$TESTGEN_WORK/subjects-venv/bin/python" \
          --cosmic-ray "$TESTGEN_WORK/mutation-venv/bin/cosmic-ray" --max-minutes "$MUT_MAX_MINUTES" \
          "${replace[@]}"
      else
        echo "mutation: no $tool tests for $m (run the $tool step first)" >&2
      fi
    done
  done
}

step_report() {
  "$BENCH_PYTHON" "$HERE/report.py"
}

for s in "${STEPS[@]}"; do
  case "$s" in
    setup|pynguin|codeloop|mutation|report) echo "== step $s ($(date -u +%H:%M:%S))"; "step_$s" ;;
    *) echo "unknown step $s (setup pynguin codeloop mutation report)" >&2; exit 2 ;;
  esac
done
