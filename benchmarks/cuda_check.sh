#!/usr/bin/env bash
# Every CUDA path of effprof, measured in one go on a machine with an NVIDIA GPU.
#
#   bash benchmarks/cuda_check.sh [OUTDIR]          (OUTDIR defaults to reports/cuda)
#   CUDA_CHECK_STEPS="tests hw" bash benchmarks/cuda_check.sh   (a subset of the steps)
#   CUDA_CHECK_PACK=results.tgz ...   also packs OUTDIR into that file after every step
#
# Uses the machine's own CUDA torch; Python packages it lacks can be put in .whl/ as wheels and
# are installed into /tmp/site first. Each step has its own time limit and writes its own log, so
# a step that fails or runs long costs only itself. A dry run on a CPU-only machine
# (CUDA_CHECK_DEVICE=cpu) checks that every command parses.
set -u
OUTDIR=${1:-reports/cuda}
mkdir -p "$OUTDIR"
DEVICE=${CUDA_CHECK_DEVICE:-cuda}
STEPS=${CUDA_CHECK_STEPS:-"env hw eager1 eager64 ortcuda profile roofline agree tests compile64 compile1 train_tests train_profile train_frozen train_compile train train_mnv2 train_vit predict"}
PY=${PYTHON:-python3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export PYTHONUNBUFFERED=1 COLUMNS=${COLUMNS:-160}

export PYTHONPATH=$ROOT${PYTHONPATH:+:$PYTHONPATH}
if ls .whl/*.whl >/dev/null 2>&1; then
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        && export PYTHONPATH=/tmp/site:$PYTHONPATH
fi

effprof() { $PY -m effprof "$@"; }

# step NAME LIMIT_S COMMAND...: run with a limit, log to OUTDIR/NAME.log, record rc and wall time
step() {
    local name=$1 limit=$2
    shift 2
    case " $STEPS " in *" $name "*) ;; *) return 0 ;; esac
    local t0=$SECONDS
    echo "=== $name: $*" | tee -a "$OUTDIR/summary.txt"
    timeout "$limit" bash -c '"$@"' _ "$@" >"$OUTDIR/$name.log" 2>&1
    local rc=$?
    echo "=== $name rc=$rc wall=$((SECONDS - t0))s" | tee -a "$OUTDIR/summary.txt"
    tail -n 40 "$OUTDIR/$name.log"
    if [ -n "${CUDA_CHECK_PACK:-}" ]; then tar czf "$CUDA_CHECK_PACK" -C "$OUTDIR" .; fi
}

env_report() {
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv || true
    $PY - <<'EOF'
import onnxruntime, torch, torchvision
print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())
print("torchvision", torchvision.__version__, "onnxruntime", onnxruntime.__version__, onnxruntime.get_available_providers())
if torch.cuda.is_available():
    p = torch.cuda.get_device_properties(0)
    print(p.name, p.multi_processor_count, "SMs", p.total_memory >> 20, "MiB", f"cc {p.major}.{p.minor}")
EOF
    uptime
}

export -f effprof env_report
export PY
MODELS=${CUDA_CHECK_MODELS:-"mobilenet_v2 resnet50 efficientnet_b0 vit_b_16"}
step env 60 env_report
step hw 150 effprof hw --device "$DEVICE" -o "$OUTDIR/hw.json"
step eager1 120 effprof compare $MODELS --device "$DEVICE" --backend eager -b 1 -o "$OUTDIR/eager_b1.json"
step eager64 120 effprof compare $MODELS --device "$DEVICE" --backend eager -b 64 -o "$OUTDIR/eager_b64.json"
# ONNX Runtime on CUDA needs onnxruntime-gpu; without it this must be a one-line error, exit 2
step ortcuda 120 effprof compare mobilenet_v2 resnet50 --device "$DEVICE" --backend onnxruntime -b 64
step profile 180 effprof profile resnet50 --device "$DEVICE" --layers 12 -o "$OUTDIR/profile_resnet50.json"
step roofline 180 effprof profile resnet50 --device "$DEVICE" -b 64 --roofline --layers 8 -o "$OUTDIR/roofline_resnet50_b64.json"
step agree 180 $PY benchmarks/timing_quality.py --device "$DEVICE" --models resnet50 --batch 64 --repeats 5 --budget-s 1.0 --output "$OUTDIR/timing_quality.csv"
step tests 240 $PY -m pytest -p no:cacheprovider -p no:warnings tests -k "cuda or gpu or backends or limits or training"
step compile64 180 effprof compare $MODELS --device "$DEVICE" --backend eager,compile -b 64 -o "$OUTDIR/compile_b64.json"
step compile1 150 effprof compare $MODELS --device "$DEVICE" --backend eager,compile -b 1 -o "$OUTDIR/compile_b1.json"
# training: one step with per-layer forward/backward kernel time, the compiled step, and the three
# fine-tuning strategies of the lecture for the issue's three models
step train_tests 240 $PY -m pytest -p no:cacheprovider -p no:warnings tests/training/test_training_cuda.py tests/training/test_training_layers.py
step train_profile 150 effprof profile resnet18 --train --backend eager --device "$DEVICE" -b 32 --optimizer sgd,adamw --layers 8 -o "$OUTDIR/train_resnet18.json"
step train_frozen 120 effprof profile resnet18 --train --freeze backbone --num-classes 3 --backend eager --device "$DEVICE" -b 32 -o "$OUTDIR/train_resnet18_frozen.json"
step train_compile 240 effprof profile resnet18 --train --backend compile --device "$DEVICE" -b 32 --optimizer sgd -o "$OUTDIR/train_resnet18_compile.json"
step train 240 effprof finetune resnet50 --num-classes 3 --dataset-size 1000 --epochs 10 --device "$DEVICE" -o "$OUTDIR/finetune_resnet50.json"
step train_mnv2 180 effprof finetune mobilenet_v2 --num-classes 3 --dataset-size 1000 --epochs 10 --device "$DEVICE" -o "$OUTDIR/finetune_mobilenet_v2.json"
step train_vit 180 effprof finetune vit_b_16 --num-classes 3 --dataset-size 1000 --epochs 10 --device "$DEVICE" -o "$OUTDIR/finetune_vit_b_16.json"
step predict 120 effprof predict --quick --device "$DEVICE" -o "$OUTDIR/predict.csv"
cat "$OUTDIR/summary.txt"
