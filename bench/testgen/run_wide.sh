#!/usr/bin/env bash
# The wide development set of issue 15: codeloop gen-tests (offline engine) against Pynguin 0.48.0
# (DynaMOSA, 60 s search) on the 21 modules of subjects-wide.csv (18 PyPI packages), both suites
# measured by the shared testgen-bench harness the same way as the six-module set (run.sh).
#
#   bench/testgen/run_wide.sh [STEP...]      STEP: setup pynguin codeloop mutation report
#                                            (default: setup pynguin codeloop report)
#
#   setup     harness venvs + the pinned subjects of subjects-wide.csv under $TESTGEN_WORK
#             (run_bench.py setup with SUBJECTS_CSV=subjects-wide.csv); outside the repo; and
#             the cosmic-ray 8.7.0 venv ($TESTGEN_WORK/mutation-venv)
#   pynguin   Pynguin, 60 s search, seed $PYNGUIN_SEEDS (default 1), one module at a time, each
#             run inside bubblewrap (run_pynguin_sandboxed.sh), wall limit $PYNGUIN_TIMEOUT
#             (default 1200 s) per run -> results-wide-pynguin.csv
#   codeloop  `codeloop gen-tests {module} --project {project} --out {outdir} --seed 1` with the
#             default budget (20 s) through the harness's --cmd -> results-wide-codeloop.csv
#   mutation  cosmic-ray mutation score (mutation.py) of the seed-1 suites of $MUT_TOOLS (default
#             pynguin,codeloop) on every module where BOTH tools wrote a suite (a file with a
#             `def test_`), the same seeded sample of $MUT_SAMPLE mutants (default 100, seed
#             $MUT_SEED, default 1) for both, at nice 10, $MUT_MAX_MINUTES (default 10) cap per
#             suite -> results-wide-mutation.csv (the measured modules' rows of the measured
#             tools are replaced); each mutant's outcome -> $TESTGEN_WORK/mutation/TOOL/MODULE.jsonl
#   report    results.md (report.py: the six-module tables and the wide set's section)
#
# MODULES=a,b limits the pynguin/codeloop steps to some modules (rows of other modules are kept;
# the measured modules' rows are replaced). Environment as in run.sh: TESTGEN_WORK (default
# /tmp/testgen-wide), TESTGEN_BENCH, BENCH_PYTHON, CODELOOP (default: this tree's code, run with
# /work/main/.venv's interpreter and PYTHONPATH=<repo>/server:<repo>/sandbox).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
export TESTGEN_BENCH=${TESTGEN_BENCH:-/work/shared/tools/testgen-bench}
export TESTGEN_WORK=${TESTGEN_WORK:-/tmp/testgen-wide}
export SUBJECTS_CSV=$HERE/subjects-wide.csv
BENCH_PYTHON=$("${BENCH_PYTHON:-python3}" -c 'import sys; print(sys.executable)')
export BENCH_PYTHON
VENV_PY=${CODELOOP_PYTHON:-/work/main/.venv/bin/python}
CODELOOP=${CODELOOP:-env PYTHONPATH=$REPO/server:$REPO/sandbox $VENV_PY -m codeloop}
PYNGUIN_SEEDS=${PYNGUIN_SEEDS:-1}
PYNGUIN_TIMEOUT=${PYNGUIN_TIMEOUT:-1200}
MODULES=${MODULES:-all}
MUT_TOOLS=${MUT_TOOLS:-pynguin,codeloop}
MUT_SAMPLE=${MUT_SAMPLE:-100}
MUT_SEED=${MUT_SEED:-1}
MUT_MAX_MINUTES=${MUT_MAX_MINUTES:-10}
COSMIC_RAY=${COSMIC_RAY:-$TESTGEN_WORK/mutation-venv/bin/cosmic-ray}
STEPS=("$@")
[ ${#STEPS[@]} -gt 0 ] || STEPS=(setup pynguin codeloop report)

# drop the rows of the modules about to be measured (all rows when MODULES=all)
drop_rows() {
  local csv=$1
  [ -f "$csv" ] || return 0
  if [ "$MODULES" = all ]; then rm -f "$csv"; return 0; fi
  "$BENCH_PYTHON" - "$csv" "$MODULES" <<'PY'
import csv, sys
path, mods = sys.argv[1], set(sys.argv[2].split(","))
rows = list(csv.DictReader(open(path)))
fields = list(rows[0].keys()) if rows else []
with open(path, "w", newline="") as fh:
    w = csv.DictWriter(fh, fieldnames=fields)
    w.writeheader()
    w.writerows(r for r in rows if r["module"] not in mods)
PY
}

step_setup() {
  # The harness installs projects/<dir> only when it is missing: a project that lacks one of
  # its pinned requirements (numpy was added to haversine's and textdistance's lines) is
  # removed first, so that the harness rebuilds it with all of them.
  local mod pdir reqs req dist
  while IFS=, read -r mod pdir reqs; do
    case "$mod" in ''|'#'*) continue ;; esac
    [ -d "$TESTGEN_WORK/projects/$pdir" ] || continue
    for req in $reqs; do
      dist=$(printf '%s' "${req%%==*}" | tr 'A-Z.-' 'a-z__')-${req#*==}.dist-info
      if [ ! -d "$TESTGEN_WORK/projects/$pdir/$dist" ]; then
        echo "projects/$pdir has no $dist: rebuilding it"
        rm -rf "${TESTGEN_WORK:?}/projects/${pdir:?}"
        break
      fi
    done
  done < "$SUBJECTS_CSV"
  "$BENCH_PYTHON" "$TESTGEN_BENCH/run_bench.py" setup --work "$TESTGEN_WORK"
  if [ ! -x "$TESTGEN_WORK/mutation-venv/bin/cosmic-ray" ]; then
    "$BENCH_PYTHON" -m venv "$TESTGEN_WORK/mutation-venv"
    "$TESTGEN_WORK/mutation-venv/bin/pip" install -q cosmic-ray==8.7.0
  fi
}

has_suite() {  # has_suite TOOL MODULE: the tool wrote at least one test function for the module
  grep -qs 'def test_' "$TESTGEN_WORK/runs/$1/$2/seed1/tests/"*.py
}

step_mutation() {
  local m tool mods
  if [ "$MODULES" = all ]; then
    mods=$(grep -v '^#' "$SUBJECTS_CSV" | cut -d, -f1)
  else
    mods=${MODULES//,/ }
  fi
  mkdir -p "$TESTGEN_WORK/mutation"
  for m in $mods; do
    if ! has_suite pynguin "$m" || ! has_suite codeloop "$m"; then
      echo "mutation: $m skipped (not both tools wrote a suite)" >&2
      continue
    fi
    for tool in ${MUT_TOOLS//,/ }; do
      mkdir -p "$TESTGEN_WORK/mutation/$tool"
      nice -n 10 "$BENCH_PYTHON" "$HERE/mutation.py" "$m" "$TESTGEN_WORK/runs/$tool/$m/seed1/tests" \
        --tool "$tool" --csv "$HERE/results-wide-mutation.csv" --replace \
        --python "$TESTGEN_WORK/subjects-venv/bin/python" --cosmic-ray "$COSMIC_RAY" \
        --sample "$MUT_SAMPLE" --sample-seed "$MUT_SEED" --max-minutes "$MUT_MAX_MINUTES" \
        --outcomes "$TESTGEN_WORK/mutation/$tool/$m.jsonl"
    done
  done
}

step_pynguin() {
  drop_rows "$HERE/results-wide-pynguin.csv"
  "$HERE/run_pynguin_sandboxed.sh" --budget 60 --seeds "$PYNGUIN_SEEDS" --timeout "$PYNGUIN_TIMEOUT" \
    --modules "$MODULES" --csv "$HERE/results-wide-pynguin.csv"
}

step_codeloop() {
  drop_rows "$HERE/results-wide-codeloop.csv"
  local ver
  ver=$(PYTHONPATH=$REPO/server "$VENV_PY" -c 'import codeloop; print(codeloop.__version__)' 2>/dev/null || echo "?")
  ver="$ver+$(git -C "$REPO" rev-parse --short HEAD)"
  "$BENCH_PYTHON" "$TESTGEN_BENCH/run_bench.py" run --work "$TESTGEN_WORK" --tool codeloop \
    --tool-version "$ver" --budget 20 --seeds 1 --modules "$MODULES" \
    --csv "$HERE/results-wide-codeloop.csv" \
    --cmd "$CODELOOP gen-tests {module} --project {project} --out {outdir} --seed {seed}"
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
