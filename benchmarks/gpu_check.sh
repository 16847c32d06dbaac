#!/usr/bin/env bash
# The checks that need a CUDA GPU, in one go (a few minutes on one GPU): the GPU tests, a preset trained
# by the CLI on the GPU, and both benchmarks on the GPU. Needs rnntui's dependencies importable and
# RNNTUI_DATA_DIR pointing at the data files (../shared/data next to the checkout, for the tests too).
#     RNNTUI_DATA_DIR=../shared/data bash benchmarks/gpu_check.sh [OUT_DIR]
set -u
out=${1:-/tmp/rnntui-gpu-check}
mkdir -p "$out"
py=${PYTHON:-python3}
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
$py -c "import sys, torch, textual; print('python', sys.version.split()[0], 'torch', torch.__version__, 'cuda', torch.version.cuda, 'textual', textual.__version__)"
echo "== tests/test_cuda.py"
timeout 100 $py -m pytest -q -p no:cacheprovider tests/test_cuda.py 2>&1 | tail -n 15
echo "== rnntui train --preset lstm --device cuda --epochs 10 --quiet"
timeout 120 $py -m rnntui train --preset lstm --device cuda --epochs 10 --out "$out/lstm-cuda" --quiet 2>&1 | tail -n 5
echo "== benchmarks/throughput.py --device cuda"
timeout 240 $py benchmarks/throughput.py --device cuda --rounds 3 --steps 60 2>&1 | tail -n 30
echo "== benchmarks/tui.py --device cuda"
timeout 240 $py benchmarks/tui.py --device cuda --rounds 4 --steps 600 --presses 8 2>&1
