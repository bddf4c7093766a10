#!/usr/bin/env bash
# Pynguin 0.48.0 (DynaMOSA) baseline, run INSIDE bubblewrap (sandboxed.sh), measured by the
# shared testgen-bench harness exactly like every other generator.
#
#   run_pynguin_sandboxed.sh [--budget 60] [--seeds 1] [--modules all|m1,m2] [--csv FILE]
#                            [--timeout S]   (wall limit per run; harness default budget + 900 s)
#
# The harness (shared/tools/testgen-bench/run_bench.py) runs Pynguin itself, unsandboxed, when
# --tool pynguin is given, and has no hook for a wrapper. So this script hands it the same
# Pynguin invocation as a `--cmd` template wrapped in sandboxed.sh (label "pynguin", the same
# arguments and --output-variables as the harness's built-in one), which the harness times and
# measures with measure_tests.py like any tool. Pynguin's own statistics (its branch coverage,
# size, search/total time, its internal mutation score) are then filled into the CSV from each
# run's report/statistics.csv with the harness's own reader (pynguin_stats.py).
#
# Environment: TESTGEN_WORK (default /tmp/testgen-bench; `run_bench.py setup` must have run),
# BENCH_PYTHON (default python3), TESTGEN_BENCH (harness folder, default /work/shared/tools/testgen-bench).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BENCH=${TESTGEN_BENCH:-/work/shared/tools/testgen-bench}
export TESTGEN_WORK=${TESTGEN_WORK:-/tmp/testgen-bench}
PY=${BENCH_PYTHON:-python3}
BUDGET=60 SEEDS=1 MODULES=all CSV=$HERE/results-pynguin.csv TIMEOUT=0
while [ $# -gt 0 ]; do
  case "$1" in
    --budget) BUDGET=$2; shift 2 ;;
    --seeds) SEEDS=$2; shift 2 ;;
    --modules) MODULES=$2; shift 2 ;;
    --csv) CSV=$2; shift 2 ;;
    --timeout) TIMEOUT=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
W=$(realpath -e "$TESTGEN_WORK")
VENV=$W/pynguin-venv
[ -x "$VENV/bin/pynguin" ] || { echo "no Pynguin under $VENV: run '$PY $BENCH/run_bench.py setup' first" >&2; exit 2; }
VERSION=$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("pynguin"))')
OUTVARS=$("$PY" -c 'import sys; sys.path.insert(0, sys.argv[1]); import run_bench; print(run_bench.OUTPUT_VARS)' "$BENCH")

CMD="$HERE/sandboxed.sh --ro {project} --ro $VENV --rw {rundir} --chdir {rundir}/cwd"
CMD+=" --setenv PYNGUIN_DANGER_AWARE 1 --"
CMD+=" $VENV/bin/pynguin --project-path {project} --module-name {module} --output-path {outdir}"
CMD+=" --report-dir {rundir}/report --algorithm DYNAMOSA --maximum-search-time {budget}"
CMD+=" --seed {seed} --output-variables $OUTVARS --no-rich"

"$PY" "$BENCH/run_bench.py" run --work "$W" --tool pynguin-bwrap --label pynguin \
  --tool-version "$VERSION" --budget "$BUDGET" --seeds "$SEEDS" --modules "$MODULES" \
  --csv "$CSV" --timeout "$TIMEOUT" --cmd "$CMD"
"$PY" "$HERE/pynguin_stats.py" "$CSV" "$W"
