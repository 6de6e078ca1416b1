#!/usr/bin/env bash
# On a machine with a GPU: install the package (TensorFlow with its CUDA libraries), then run
# tools/gpu_check.py in the gpu profile with quick budgets (GANBOOK_QUICK, default 0.1 of every
# step budget, sized to fit 8 minutes on one modern GPU): dcgan28 images/s, seconds per epoch,
# FID and IS, the DCGAN, evaluation and diffusion chapters, the device name -> one JSON file.
#
# Usage: tools/gpu_check.sh [--dry-run] [--quick FRACTION] [--out FILE]
#   --dry-run   no GPU needed, nothing installed: checks the script on the CPU (tiny budgets,
#               chapters skipped) with the .venv that `make` made.
set -euo pipefail
cd "$(dirname "$0")/.."

dry_run=0
quick=${GANBOOK_QUICK:-0.1}
out=_build/gpu_check.json
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) dry_run=1 ;;
    --quick) quick=$2; shift ;;
    --out) out=$2; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "gpu_check.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3.11}
if [ "$dry_run" = 1 ]; then
  test -x "$VENV/bin/python" || { echo "gpu_check.sh --dry-run: run 'make test' first (no $VENV)" >&2; exit 2; }
  echo "dry run: no install, smoke budgets, chapters skipped"
  exec env GANBOOK_QUICK= "$VENV/bin/python" tools/gpu_check.py --dry-run --out "$out"
fi

if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu_check.sh: no GPU here (nvidia-smi finds none); try --dry-run" >&2
  exit 2
fi
nvidia-smi -L
test -x "$VENV/bin/python" || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -e ".[book,test]" "tensorflow[and-cuda]"
"$VENV/bin/python" -c "import tensorflow as tf, sys; gpus = tf.config.list_physical_devices('GPU'); print('TensorFlow sees', gpus); sys.exit(0 if gpus else 1)" \
  || { echo "gpu_check.sh: TensorFlow sees no GPU (CUDA libraries?)" >&2; exit 1; }
# The whole check must fit 8 minutes; the timeout leaves a margin for the install above.
GANBOOK_PROFILE=gpu GANBOOK_QUICK=$quick timeout 480 "$VENV/bin/python" tools/gpu_check.py --out "$out"
