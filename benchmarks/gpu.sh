#!/usr/bin/env bash
# Every GPU measurement of the project, in stages that each fit in a 10-minute command.
#
#   bash benchmarks/gpu.sh physics   OUT   # PROSPECT-D forward (batch 1e6), PROSAIL forward, batch inversion
#   bash benchmarks/gpu.sh networks  OUT   # training throughput of every network; batched vs one-by-one fits
#   bash benchmarks/gpu.sh products  OUT   # product routes (lm, hybrid, lut) on a synthetic 10^6-pixel scene
#   bash benchmarks/gpu.sh lst       OUT   # thermal band-model fit, LST simulation and physical inversion
#   bash benchmarks/gpu.sh s1s2      OUT   # training throughput of the Sentinel-1/2 LAI U-Nets at the paper's size
#   bash benchmarks/gpu.sh voxel     OUT   # voxel Monte Carlo: paths/s, tallies/s, polynomial evaluations/s vs 4SAIL
#   bash benchmarks/gpu.sh study     OUT   # LODO network grid (resumable: rerun until it prints "complete"),
#                                          # then the leaf-trait study on its predictions
#
# OUT receives one text file per measurement.  DATA (default ../shared/data/leaf_spectra) is the folder of the
# leaf-spectra parquet files; RESULTS (default results) holds the resumable grid; GRID (default full) and
# BUDGET (seconds of grid fitting per call, default 480) set the study stage.
set -euo pipefail
cd "$(dirname "$0")/.."
stage=${1:?stage: physics, networks, products, lst, s1s2, voxel or study}
out=${2:?output folder}
mkdir -p "$out"
py=${PYTHON:-python3}
export PYTHONPATH=${PYTHONPATH:-.}
data=${DATA:-../shared/data/leaf_spectra}
results=${RESULTS:-results}
"$py" -c "import jax; print(jax.devices())" | tee "$out/devices.txt"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null | tee -a "$out/devices.txt" || true
case "$stage" in
physics)
  "$py" benchmarks/forward.py --gpu 2>&1 | tee "$out/forward.txt"
  "$py" benchmarks/roofline.py --counts-only 2>&1 | tee "$out/roofline_counts.txt"
  "$py" benchmarks/prosail.py --batch 1000000 --chunk 100000 --no-baseline 2>&1 | tee "$out/prosail.txt"
  "$py" benchmarks/inversion.py --gpu 2>&1 | tee "$out/inversion.txt"
  ;;
networks)
  "$py" benchmarks/train_throughput.py --batch-size 256 --json "$out/train_throughput.json" 2>&1 \
    | tee "$out/train_throughput.txt"
  "$py" benchmarks/batched_fits.py --networks glm resnet tabnet transformer cnn --models 256 --epochs 100 \
    --json "$out/batched_fits.json" 2>&1 | tee "$out/batched_fits.txt"
  ;;
products)
  "$py" benchmarks/scene_routes.py --gpu 2>&1 | tee "$out/scene_routes.txt"
  ;;
lst)
  "$py" benchmarks/lst.py --data "${THERMAL:-../shared/data/thermal}" --n 1000000 --pixels 65536 --gpu 2>&1 \
    | tee "$out/lst.txt"
  ;;
s1s2)
  "$py" benchmarks/s1s2_networks.py --gpu --json "$out/s1s2_networks.json" 2>&1 | tee "$out/s1s2_networks.txt"
  ;;
voxel)
  "$py" benchmarks/voxel.py --gpu --json "$out/voxel.json" 2>&1 | tee "$out/voxel.txt"
  ;;
study)
  "$py" -m experiments.lodo_networks.run --grid "${GRID:-full}" --data "$data" \
    --out "$results/lodo_networks_${GRID:-full}" --time-budget "${BUDGET:-480}" 2>&1 | tail -n 60 \
    | tee "$out/lodo_networks.txt"
  cp "$results/lodo_networks_${GRID:-full}/runtime.json" "$out/lodo_networks_runtime.json"
  if grep -q '^complete' "$out/lodo_networks.txt"; then
    "$py" -m experiments.leaf_traits.run --data "$data" --networks "$results/lodo_networks_${GRID:-full}" \
      --out "$results/leaf_traits_gpu" 2>&1 | tail -n 40 | tee "$out/leaf_traits.txt"
  fi
  ;;
*)
  echo "unknown stage $stage" >&2
  exit 2
  ;;
esac
