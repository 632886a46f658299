#pragma once
// SPDX-License-Identifier: MIT
//
// The training run folder, defined once for the programs that write it (every train-* command,
// through core/ml/training/TrainingLoop) and the ones that read it (the studio):
//   run.json                 every option of the run (refused on --resume when they differ)
//   metrics.jsonl            a JSON line a step (and one per validation), flushed
//   checkpoint.json          {"step", "model", "state", "seconds", "previous": {...}}: written
//                            last and synced, so it names complete checkpoints only
//   state_step_N.pt          the whole trainer state at step N (the latest two are kept)
//   NAME_latest.safetensors  the model as it is used; NAME_step_N.safetensors every N steps
//   events.out.tfevents.*    the scalars for TensorBoard (a file per process start)
//   events.jsonl             the event stream (Events.h) of the processes the studio starts
//   studio-run.json          the studio's record of the process it started (pid, arguments)
//   rank_R.log               the output of data-parallel rank R > 0
// Random numbers and the data order are functions of (seed, step), so the step is the whole
// resume point: no RNG state is stored. No Qt, no torch.

#include <filesystem>
#include <string>
#include <vector>

namespace lidistill::run {

struct Folder {
    std::filesystem::path dir;

    std::filesystem::path runJson() const { return dir / "run.json"; }
    std::filesystem::path metrics() const { return dir / "metrics.jsonl"; }
    std::filesystem::path checkpointRecord() const { return dir / "checkpoint.json"; }
    std::filesystem::path events() const { return dir / "events.jsonl"; }
    std::filesystem::path studioRecord() const { return dir / "studio-run.json"; }
    std::filesystem::path latestModel(const std::string& name) const {
        return dir / (name + "_latest.safetensors");
    }
    std::filesystem::path stepModel(const std::string& name, long long step) const {
        return dir / (name + "_step_" + std::to_string(step) + ".safetensors");
    }
    std::filesystem::path state(long long step) const {
        return dir / ("state_step_" + std::to_string(step) + ".pt");
    }
    std::filesystem::path rankLog(int rank) const {
        return dir / ("rank_" + std::to_string(rank) + ".log");
    }
    /// A run was started here (run.json or checkpoint.json).
    bool holdsRun() const;
    /// Whether a file of this name is the run's own (what starting over with --force removes:
    /// not the map cache, not the studio's logs).
    static bool isRunFile(const std::string& fileName);
    /// Whether it is a trainer state file (state_step_N.pt, or an older state_latest.pt).
    static bool isStateFile(const std::string& fileName);
};

/// A complete checkpoint: its step, its state file and the run's training seconds at it.
struct CheckpointRecord {
    long long step = 0;
    std::filesystem::path state;
    double seconds = 0;
};

/// The checkpoints checkpoint.json names, latest first (the one before it is kept as a
/// fall-back for a latest state that turns out corrupt); empty if there is none.
/// @throws IoError for an unreadable record, or one whose step is not a non-negative integer,
///         whose seconds are not finite, or whose state is not a state file of `dir`.
std::vector<CheckpointRecord> readCheckpoints(const std::filesystem::path& dir);
/// The metrics.jsonl text a resume at `step` keeps: every line up to the first one that is not
/// a JSON object with an integer "step" (a line cut by a crash ends it), those of a later step
/// left out. @throws IoError if the file cannot be opened.
std::string metricsUpTo(const std::filesystem::path& file, long long step);
/// Rewrites metrics.jsonl atomically to metricsUpTo(file, step); nothing if it does not exist.
void truncateMetrics(const std::filesystem::path& file, long long step);
/// The step of the last complete checkpoint, or -1 if none. @throws IoError.
long long lastCheckpointStep(const std::filesystem::path& dir);
/// How the options of a run being resumed (`now`, run.json's content as JSON text) differ from
/// the run.json in `dir`: "lr 0.01 -> 0.02, augment false -> true" ("" when they agree). --steps
/// may change (to go further), and options the older file did not record are not differences.
/// @throws IoError naming the file if it is unreadable or not a JSON object.
std::string runRecordDifferences(const std::filesystem::path& dir, const std::string& now);
/// Writes checkpoint.json naming `kept` (latest first, at most two used) and the model file,
/// atomically and synced. @throws IoError.
void writeCheckpointRecord(const std::filesystem::path& dir, const std::string& modelFileName,
                           const std::vector<CheckpointRecord>& kept);

}  // namespace lidistill::run
