#!/usr/bin/env bash
# Reproduces the shipped lite models (resources/models/) from nothing, with this project's code:
#   bash resources/scripts/train_models.sh [WORK_DIR] [STAGE...]
# Stages, in order (default: all): data teacher refiner dpo models eval
#   data     synthetic training sequences (seeds 101-124, 40 frames each, urban / suburban /
#            rural) and two held-out ones (seeds 901, 902) for validation
#   teacher  lidistill train-teacher on the 24 training sequences (lite scale)
#   refiner  lidistill train-refiner on the same sequences (runs beside dpo: one core each)
#   dpo      lidistill train-dpo from the teacher (the student)
#   models   teacher + refiner and student + refiner into WORK_DIR/models/
#   eval     lidistill eval-models on held-out frames: the real SemanticKITTI frames of
#            ../shared/data (never trained on) and the synthetic seeds 901/902
# Ablation stages (issue 11; not in the default list; same data, teacher and steps as dpo):
#   scorelidar       lidistill train-distill from the teacher (ScoreLiDAR, intended objective)
#   scorelidar_ddil  the same with DDIL states (--ddil-steps 8, forward/teacher/student mix)
#   dpo_ddil         train-dpo with the same DDIL states
#   scorelidar_own   ScoreLiDAR at the student's own 8-step states only (DMD2's backward
#                    simulation: --ddil-steps 8, every state a student rollout)
#   ablation         the three students + refiner into WORK_DIR/models/, and eval-models with
#                    every student on the same held-out frames (WORK_DIR/ablation-*.json)
# Every stage is resumable: run the script again after a kill and it goes on (training stages
# use --resume; finished stages are skipped). Logs: WORK_DIR/logs/. Each training stage runs
# single-threaded (lite-scale ops are too small to split; see README "The lite scale").
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
WORK=${1:-$ROOT/build/train-models}
shift || true
STAGES=${*:-data teacher refiner dpo models eval}
L=${LIDISTILL:-$ROOT/build/app/lidistill}
SHARED=${LIDISTILL_SHARED_DATA:-$ROOT/../shared/data}
TEACHER_STEPS=${TEACHER_STEPS:-5000}
REFINER_STEPS=${REFINER_STEPS:-2500}
DPO_STEPS=${DPO_STEPS:-400}
ABLATION_STEPS=${ABLATION_STEPS:-$DPO_STEPS}
# DDIL's state mix (reference 10 gives no values): mostly forward-noised truth at first, mostly
# the student's own rollouts at the end; a replay buffer halves the rollouts' cost.
DDIL=(--ddil-steps 8 --ddil-start 0.5,0.25,0.25 --ddil-end 0.1,0.3,0.6 --replay 64 --replay-prob 0.5)
# Guidance written into the shipped files: chosen on the validation sequence (seed 901, frames
# 10-13, CD of the diffused cloud over w in 1, 2, 3.5, 6), never on the evaluation frames.
TEACHER_GUIDANCE=${TEACHER_GUIDANCE:-2}
STUDENT_GUIDANCE=${STUDENT_GUIDANCE:-2}
mkdir -p "$WORK/logs" "$WORK/data" "$WORK/models"
export OMP_WAIT_POLICY=PASSIVE

train_seqs() { ls -d "$WORK"/data/synth-*/sequences/00; }
done_steps() {  # steps of the last complete checkpoint of a run folder, or 0
    python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['step'])" \
        "$1/checkpoint.json" 2>/dev/null || echo 0
}

stage_data() {
    for s in $(seq 101 124); do
        case $((s % 3)) in 0) p=urban ;; 1) p=suburban ;; 2) p=rural ;; esac
        [ -f "$WORK/data/synth-$s/sequences/00/poses.txt" ] ||
            "$L" synth --seed "$s" --frames 40 --preset "$p" --out "$WORK/data/synth-$s" --force >/dev/null
    done
    for s in 901 902; do
        [ -f "$WORK/data/val-$s/sequences/00/poses.txt" ] ||
            "$L" synth --seed "$s" --frames 40 --preset urban --out "$WORK/data/val-$s" --force >/dev/null
    done
}

stage_teacher() {
    [ "$(done_steps "$WORK/teacher")" -ge "$TEACHER_STEPS" ] && return
    # shellcheck disable=SC2046
    OMP_NUM_THREADS=1 "$L" train-teacher $(train_seqs) "$WORK/teacher" --scale lite \
        --steps "$TEACHER_STEPS" --batch 1 --lr 1e-3 --lr-decay 0.7 --augment --seed 42 \
        --checkpoint-every 500 --validate-every 1000 \
        --validation "$WORK/data/val-901/sequences/00" --validation-frames 10:12 \
        --print-every 50 --resume >>"$WORK/logs/teacher.log" 2>&1
}

stage_refiner() {
    [ "$(done_steps "$WORK/refiner")" -ge "$REFINER_STEPS" ] && return
    [ -f "$WORK/refiner-base.safetensors" ] ||
        "$L" model init "$WORK/refiner-base.safetensors" --scale lite --refiner --seed 7 >/dev/null
    # shellcheck disable=SC2046
    OMP_NUM_THREADS=1 "$L" train-refiner "$WORK/refiner-base.safetensors" $(train_seqs) \
        "$WORK/refiner" --steps "$REFINER_STEPS" --lr 1e-3 --augment --seed 43 \
        --checkpoint-every 500 --print-every 50 --resume >>"$WORK/logs/refiner.log" 2>&1
}

stage_dpo() {
    [ "$(done_steps "$WORK/dpo")" -ge "$DPO_STEPS" ] && return
    # shellcheck disable=SC2046
    OMP_NUM_THREADS=1 "$L" train-dpo "$WORK/teacher/teacher_latest.safetensors" $(train_seqs) \
        "$WORK/dpo" --steps "$DPO_STEPS" --lr 1e-5 --augment --seed 44 \
        --checkpoint-every 200 --validate-every 200 \
        --validation "$WORK/data/val-901/sequences/00" --validation-frames 10:12 \
        --print-every 20 --resume >>"$WORK/logs/dpo.log" 2>&1
}

student_run() {  # NAME COMMAND [OPTIONS...]: a student trainer's run into WORK/NAME
    local name=$1 cmd=$2
    shift 2
    [ "$(done_steps "$WORK/$name")" -ge "$ABLATION_STEPS" ] && return
    # shellcheck disable=SC2046
    OMP_NUM_THREADS=1 "$L" "$cmd" "$WORK/teacher/teacher_latest.safetensors" $(train_seqs) \
        "$WORK/$name" --steps "$ABLATION_STEPS" --augment --seed 44 \
        --checkpoint-every 100 --validate-every 200 \
        --validation "$WORK/data/val-901/sequences/00" --validation-frames 10:12 \
        --print-every 20 --resume "$@" >>"$WORK/logs/$name.log" 2>&1
}
stage_scorelidar() { student_run scorelidar train-distill --lr 3e-5; }
stage_scorelidar_ddil() { student_run scorelidar-ddil train-distill --lr 3e-5 "${DDIL[@]}"; }
stage_scorelidar_own() { student_run scorelidar-own train-distill --lr 3e-5 --ddil-steps 8; }
stage_dpo_ddil() { student_run dpo-ddil train-dpo --lr 1e-5 "${DDIL[@]}"; }

stage_ablation() {
    local list="" name
    for name in scorelidar scorelidar-ddil scorelidar-own dpo-ddil; do
        [ -f "$WORK/$name/student_latest.safetensors" ] || continue
        "$L" model merge "$WORK/models/lite-$name.safetensors" \
            "$WORK/$name/student_latest.safetensors" "$WORK/refiner/refiner_latest.safetensors" \
            --networks encoder,denoiser,refiner --source "train_models.sh: $name + refiner" \
            --guidance "$STUDENT_GUIDANCE"
        list="$list,$name=$WORK/models/lite-$name.safetensors"
    done
    local args=(--students "dpo=$WORK/models/lite-student.safetensors$list"
        --baseline-sigma 0.1 --map-cache "$WORK/eval-maps")
    "$L" eval-models "$SHARED/semantickitti-mini/sequences/00" "${args[@]}" \
        --out "$WORK/ablation-real.json" | tee "$WORK/logs/ablation-real.md"
    "$L" eval-models "$WORK/data/val-902/sequences/00" --frames 5:40:5 "${args[@]}" \
        --out "$WORK/ablation-synth.json" | tee "$WORK/logs/ablation-synth.md"
}

stage_models() {
    "$L" model merge "$WORK/models/lite-teacher.safetensors" \
        "$WORK/teacher/teacher_latest.safetensors" "$WORK/refiner/refiner_latest.safetensors" \
        --networks encoder,denoiser,refiner --source "train_models.sh: teacher + refiner" \
        --guidance "$TEACHER_GUIDANCE"
    "$L" model merge "$WORK/models/lite-student.safetensors" \
        "$WORK/dpo/student_latest.safetensors" "$WORK/refiner/refiner_latest.safetensors" \
        --networks encoder,denoiser,refiner --source "train_models.sh: DPO student + refiner" \
        --guidance "$STUDENT_GUIDANCE"
}

stage_eval() {
    local args=(--teacher "$WORK/models/lite-teacher.safetensors"
        --student "$WORK/models/lite-student.safetensors"
        --sigma-from "$WORK/data/synth-101/sequences/00" --sigma-frames 10:14
        --map-cache "$WORK/eval-maps")
    "$L" eval-models "$SHARED/semantickitti-mini/sequences/00" "${args[@]}" \
        --out "$WORK/eval-real.json" | tee "$WORK/logs/eval-real.md"
    "$L" eval-models "$WORK/data/val-902/sequences/00" --frames 5:40:5 "${args[@]}" \
        --out "$WORK/eval-synth.json" | tee "$WORK/logs/eval-synth.md"
}

for stage in $STAGES; do
    echo "== $stage ($(date +%H:%M:%S))"
    "stage_$stage"
done
echo "== done ($(date +%H:%M:%S)): $WORK/models"
