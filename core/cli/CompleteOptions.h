#pragma once
// SPDX-License-Identifier: MIT
//
// What `complete` and the worker's complete jobs share: the completion options of a model
// file with the command's flags on top, parsed and checked one way for both.
#ifdef LIDISTILL_HAVE_ML
#include "core/cli/Args.h"
#include "core/ml/Completion.h"
#include "core/ml/Model.h"

#include <ostream>
#include <vector>

namespace lidistill::cli {

/// The options `complete` takes (also the words of a worker's complete job).
std::vector<OptionSpec> completeOptionSpecs();

/// --refiner FILE: the refiner of a separate file (LiDiff publishes refine_net.ckpt apart).
OptionSpec refinerOptionSpec();
/// The model file `file`, with the refiner of --refiner when given. @throws as LidiffModel::load.
ml::LidiffModel loadModelArg(const Args& args, const std::string& file);

/// The model's own options (its scale and sampling) with --steps, --guidance, --seed,
/// --points, --tile, --min-range, --max-range, --no-refine, --noise-scale on top; a note on `notes` when they
/// leave the model's scale. @throws UsageError for a value out of range.
ml::CompletionOptions completionOptionsFromArgs(const Args& args, const ml::LidiffModel& model,
                                                std::ostream& notes);

}  // namespace lidistill::cli
#endif  // LIDISTILL_HAVE_ML
