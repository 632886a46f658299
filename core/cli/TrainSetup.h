#pragma once
// SPDX-License-Identifier: MIT
//
// What the train-* commands share: training sequences and their maps, held-out validation
// frames, the loop options, the scale check against the model, and the run folder's run.json;
// and the config of new networks from options (also `model init`).
#ifdef LIDISTILL_HAVE_ML
#include "core/cli/Args.h"
#include "core/cli/Command.h"
#include "core/dataset/Sequence.h"
#include "core/map/GroundTruth.h"
#include "core/map/StaticMap.h"
#include "core/ml/Model.h"
#include "core/ml/StudentStates.h"
#include "core/ml/training/TrainingLoop.h"

#include <deque>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace lidistill::cli {

/// Sequences, maps and frames of one training run. Deques: sources point into them.
struct TrainSetup {
    std::filesystem::path outDir;
    std::deque<Sequence> sequences;
    std::deque<map::StaticMap> maps;
    std::vector<ml::TrainingSource> sources;
    std::vector<ml::ValidationFrame> validation;
    ml::LoopOptions loop;
    bool force = false;  ///< --force: start a run over, or resume it with other options
    int nproc = 1;       ///< --nproc: ranks to start on this machine (this one is rank 0)
    ml::DistributedOptions distributed;  ///< --rank, --world-size, --master-addr/-port
};

/// The config of new networks: --scale (full or lite, else UsageError; `defaultScale` when
/// absent), then --width, --voxel-size, --tile, --max-range, --points, --full-points on top (the
/// scale's name becomes "custom" when they change it). Not validated: callers decide how a value
/// out of range is reported (ModelConfig::fromJson throws InvalidArgument).
ml::ModelConfig newModelConfig(const Args& args, const std::string& defaultScale);

/// The reference 7.1 ground truth within the scale's range (50 m at LiDiff's full scale): a
/// model that completes 30 m is scored on the 30 m it completes, and so are the baselines.
map::GroundTruthOptions groundTruthFor(const ml::ModelScale& scale);

/// The options every train-* command takes (appended to a command's own).
std::vector<OptionSpec> commonTrainOptions(const char* defaultLr, const char* defaultDecay,
                                           long long defaultSteps);

/// Checks the folder and the options (a folder holding a run is refused without --resume or
/// --force; --force without --resume clears it), then reads the sequences (the positional arguments
/// from `firstSeq` to the last but one), builds or loads their maps (OUT_DIR/maps/) and the
/// validation frames. `scale` is the model's: --points / --full-points that differ from it are
/// refused unless --force-scale. @throws UsageError, IoError, InvalidArgument.
TrainSetup prepareTraining(const Args& args, std::size_t firstSeq, const ml::ModelScale& scale,
                           double defaultLr, double defaultDecay, long long defaultSteps,
                           ProgressSink* progress);

/// Writes OUT_DIR/run.json: `command` and `extra` plus the loop's options and the sequences.
/// With --resume, options other than --steps that differ from the run.json there are refused,
/// listing the differences (UsageError), unless --force.
void writeRunJson(const TrainSetup& setup, const std::string& command,
                  const nlohmann::ordered_json& extra);

/// The student trainers' DDIL options (--ddil-steps, --ddil-start, --ddil-end, --replay,
/// --replay-prob, --reflect), their parser (@throws UsageError) and their run.json record.
std::vector<OptionSpec> studentStateOptionSpecs();
ml::StudentStateOptions studentStateOptions(const Args& args);
nlohmann::ordered_json studentStateJson(const ml::StudentStateOptions& o);

/// --validation-frame I: frame I of the first training sequence leaves training and becomes the
/// validation frame. Then checks that --validate-every has a frame. @throws UsageError.
void holdOutValidationFrame(const Args& args, TrainSetup& setup, const ml::ModelScale& scale);

/// --nproc starts ranks 1..N-1 by executing this program again (/proc/self/exe). That is only
/// right when the program is the `lidistill` command line: a test or tool that calls cli::run
/// in-process would start copies of itself. @throws UsageError naming `exe` otherwise.
void checkRankExecutable(const std::filesystem::path& exe);

/// Runs the loop with the terminal's progress and a summary line at the end.
int runAndReport(ml::Trainer& trainer, TrainSetup& setup, const std::string& task, Context& ctx);

}  // namespace lidistill::cli
#endif  // LIDISTILL_HAVE_ML
