#!/usr/bin/env bash
# Run the replicates that the ledger's statistical tests read (kdmath.ledger.empirical): independent
# seeds of the experiments that test the sources' empirical claims, each a whole run (teacher included),
# several at a time. Each replicate writes OUT_DIR/NAME-CONFIG-seedN.json when it finishes, so a run
# stopped by its deadline keeps the replicates it completed.
#
#   tools/run_replicates.sh CONFIG OUT_DIR PARALLEL DEADLINE_SECONDS [MNIST_DIR]
#
# The seeds: SWEEP_SEEDS (default 0-4; set it empty for none) for temperature_sweep, OTHER_SEEDS (default 0-9) for
# scratch_vs_distill and soft_targets_regularizer. PYTHON defaults to python3.
set -u
config=$1 out=$2 parallel=$3 deadline=$4 data=${5:-}
export PYTHON=${PYTHON:-python3} CONFIG=$config OUT_DIR=$out DATA_DIR=$data
mkdir -p "$out"
{
    for s in ${SWEEP_SEEDS-0 1 2 3 4}; do echo "temperature_sweep $s"; done
    for s in ${OTHER_SEEDS-0 1 2 3 4 5 6 7 8 9}; do echo "scratch_vs_distill $s"; echo "soft_targets_regularizer $s"; done
} | timeout "$deadline" xargs -P "$parallel" -L 1 bash -c '
    "$PYTHON" -m kdmath.experiments "$0" --config "$CONFIG" --seed "$1" --out-dir "$OUT_DIR" \
        --checkpoint-dir "${TMPDIR:-/tmp}/replicate-checkpoints/$0-$1" --no-progress ${DATA_DIR:+--data-dir "$DATA_DIR"} \
        > "$OUT_DIR/log-$0-seed$1.txt" 2>&1 && echo "done $0 seed $1 after ${SECONDS}s"'
echo "replicates finished: $(ls "$out"/*-seed*.json 2>/dev/null | wc -l)"
