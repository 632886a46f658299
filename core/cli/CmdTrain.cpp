// SPDX-License-Identifier: MIT
// `lidistill train-teacher`, `train-refiner`, `train-dpo` and `train-distill`: one loop
// (ml::runTrainingLoop), four trainers.
#ifdef LIDISTILL_HAVE_ML
#include "core/base/Error.h"
#include "core/base/RunFolder.h"
#include "core/cli/Cli.h"
#include "core/cli/Command.h"
#include "core/cli/TerminalProgress.h"
#include "core/cli/TrainSetup.h"
#include "core/map/SequenceMap.h"
#include "core/ml/DistillationDpo.h"
#include "core/ml/Model.h"
#include "core/ml/ScoreLidar.h"
#include "core/ml/training/Trainer.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>

namespace lidistill::cli {
namespace {
namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

std::vector<OptionSpec> withCommon(std::vector<OptionSpec> own, const char* lr, const char* decay,
                                   long long steps) {
    auto common = commonTrainOptions(lr, decay, steps);
    own.insert(own.begin(), common.begin(), common.end());
    return own;
}

// The model a run resumes from (NAME_latest in OUT_DIR) when --resume finds a checkpoint.
std::optional<ml::LidiffModel> resumedModel(const Args& args, const fs::path& outDir,
                                            const std::string& name) {
    const fs::path latest = run::Folder{outDir}.latestModel(name);
    if (args.flag("resume") && fs::exists(run::Folder{outDir}.checkpointRecord()) &&
        fs::exists(latest)) {
        return ml::LidiffModel::load(latest);
    }
    return std::nullopt;
}

// ---- train-teacher -------------------------------------------------------------------------

int runTeacher(const Args& args, Context& ctx) {
    const fs::path outDir = args.positional().back();
    // The networks: a checkpoint to go on from, or fresh ones of the asked scale.
    ml::ModelConfig config;
    std::optional<ml::LidiffModel> init = resumedModel(args, outDir, "teacher");
    const bool resumed = init.has_value();  // then the options that shaped it are ignored
    if (!init && args.has("init")) init.emplace(ml::LidiffModel::load(*args.value("init")));
    if (init) {
        config = init->config();
        for (const char* fresh : {"scale", "width", "voxel-size", "tile", "max-range"}) {
            if (resumed) break;
            if (args.has(fresh)) {
                throw UsageError(std::string("--") + fresh +
                                 " shapes new networks; the model given has its own");
            }
        }
    } else {
        // New networks take their scale from the options: the data they are trained on.
        config = newModelConfig(args, "lite");
        config.hasRefiner = args.flag("refiner");
        config.source = "lidistill train-teacher";
        try {
            ml::ModelConfig::fromJson(config.toJson());
        } catch (const InvalidArgument& e) {
            throw UsageError(e.what());
        }
        init.emplace(config, static_cast<std::uint64_t>(args.integer("seed", 0)));
    }
    if (auto device = args.value("device")) init->setDevice(*device);

    ml::TeacherOptions t;
    t.batchSize = static_cast<int>(args.integer("batch", 2));
    t.accumulate = static_cast<int>(args.integer("accumulate", 1));
    if (t.accumulate < 1 || t.accumulate > 64) throw UsageError("--accumulate must be in 1..64");
    t.uncondProb = args.number("uncond-prob", 0.1);
    t.validationSteps = static_cast<int>(args.integer("val-steps", 8));
    t.validationGuidance = args.number("val-guidance", config.sampling.guidance);
    if (t.batchSize < 1 || t.batchSize > 64) throw UsageError("--batch must be in 1..64");
    if (!(t.uncondProb >= 0 && t.uncondProb <= 1)) {
        throw UsageError("--uncond-prob must be in [0, 1]");
    }
    if (t.validationSteps < 1 || t.validationSteps > 1000) {
        throw UsageError("--val-steps must be in 1..1000");
    }
    TerminalProgress prep(ctx.err, "train-teacher: maps", ctx.errIsTerminal);
    auto setup = prepareTraining(args, 0, config.scale, 1e-4, 0.5, 20000, &prep);
    prep.finish();
    t.learningRate = setup.loop.learningRate;
    auto trainer = ml::makeTeacherTrainer(*init, t);
    writeRunJson(setup, "train-teacher",
                 Json{{"config", Json::parse(config.toJson())},
                      {"init", args.value("init", "")},
                      {"batch", t.batchSize},
                      {"accumulate", t.accumulate},
                      {"uncond_prob", t.uncondProb},
                      {"val_steps", t.validationSteps}});
    return runAndReport(*trainer, setup, "train-teacher", ctx);
}

Command teacherCommand() {
    Command c;
    c.name = "train-teacher";
    c.summary = "Train a LiDiff teacher (diffusion + condition encoder) on sequences";
    c.synopsis = "SEQUENCE_DIR... OUT_DIR";
    c.description =
        "Reference 3.1: x_t = G + sigma_t eps with t ~ U{0..999} per example, the denoiser\n"
        "predicts eps from x_t and the encoded partial scan, loss MSE + 5 (mean^2 + (std-1)^2),\n"
        "classifier-free-guidance dropout per example (--uncond-prob, also at --batch 1), Adam\n"
        "(--lr) with the learning rate x --lr-decay after every epoch. Examples are LiDiff's\n"
        "training samples (reference 1.3) of the model's scale from every SEQUENCE_DIR (real or\n"
        "synthetic, with poses and labels). New networks are --scale lite (default: width 0.25,\n"
        "0.1 m voxels, 2000 x 4 points, for CPUs) or full (LiDiff's); --init starts from a file.\n"
        "Validation (--validate-every) completes the held-out --validation frames with\n"
        "--val-steps and logs val_cd / val_jsd. OUT_DIR gets run.json, metrics.jsonl,\n"
        "teacher_latest.safetensors, teacher_step_N.safetensors, state_step_N.pt (the latest\n"
        "two) and checkpoint.json; Ctrl+C / SIGTERM saves and --resume goes on.";
    c.options = withCommon(
        {{"scale", "lite|full", "new networks: scale", false, "lite"},
         {"width", "W", "new networks: channel multiplier", false, "the scale's"},
         {"voxel-size", "M", "new networks: voxel size", false, "the scale's"},
         {"tile", "K", "new networks: copies of the partial scan in x_init", false, "the scale's"},
         {"max-range", "M", "new networks: scan and ground-truth range, metres", false,
          "the scale's"},
         {"refiner", "", "new networks: add a (fresh) refiner, for train-refiner later", true, ""},
         {"init", "MODEL", "start from this model file", false, ""},
         {"batch", "B", "examples a step", false, "2"},
         {"accumulate", "A", "micro-batches of B a step, gradients averaged (= A ranks of "
                             "--nproc)", false, "1"},
         {"uncond-prob", "P", "probability of the null condition per example", false, "0.1"},
         {"val-steps", "N", "sampler steps of the validation completions", false, "8"},
         {"val-guidance", "W", "guidance of the validation completions", false, "6"}},
        "1e-4", "0.5", 20000);
    c.minPositional = 2;
    c.maxPositional = 1000;
    c.run = runTeacher;
    return c;
}

// ---- train-refiner -------------------------------------------------------------------------

int runRefiner(const Args& args, Context& ctx) {
    const fs::path outDir = args.positional().back();
    std::optional<ml::LidiffModel> model = resumedModel(args, outDir, "refiner");
    if (!model) {
        auto base = ml::LidiffModel::load(args.positional()[0]);
        if (base.config().hasRefiner) {
            model.emplace(std::move(base));
        } else {
            // Add a fresh refiner of the same width beside the model's networks.
            auto config = base.config();
            config.hasRefiner = true;
            model.emplace(config, static_cast<std::uint64_t>(args.integer("seed", 0)));
            model->copyNetworksFrom(base);
        }
    }
    if (auto device = args.value("device")) model->setDevice(*device);
    const auto& config = model->config();
    ml::RefinerOptions r;
    r.jitter = args.number("jitter", 0.2);
    r.jitterClip = args.number("jitter-clip", 0.3);
    r.batchSize = static_cast<int>(args.integer("batch", 1));
    if (!(r.jitter >= 0) || !(r.jitterClip >= 0)) throw UsageError("--jitter must be >= 0");
    if (r.batchSize < 1 || r.batchSize > 64) throw UsageError("--batch must be in 1..64");
    // The refiner's target is denser than the diffusion's output by its up-sampling factor.
    ml::ModelScale scale = config.scale;
    scale.fullPoints *= static_cast<std::size_t>(std::max(1, config.refinerOutChannels / 3));
    TerminalProgress prep(ctx.err, "train-refiner: maps", ctx.errIsTerminal);
    auto setup = prepareTraining(args, 1, scale, 1e-4, 1.0, 2000, &prep);
    prep.finish();
    r.learningRate = setup.loop.learningRate;
    auto trainer = ml::makeRefinerTrainer(*model, r);
    writeRunJson(setup, "train-refiner",
                 Json{{"model", args.positional()[0]},
                      {"jitter", r.jitter},
                      {"jitter_clip", r.jitterClip},
                      {"batch", r.batchSize}});
    return runAndReport(*trainer, setup, "train-refiner", ctx);
}

Command refinerCommand() {
    Command c;
    c.name = "train-refiner";
    c.summary = "Train LiDiff's refinement network (6x offsets, Chamfer loss)";
    c.synopsis = "MODEL SEQUENCE_DIR... OUT_DIR";
    c.description =
        "Reference 3.6: ground-truth samples of the model's scale (x6 denser than the\n"
        "diffusion's output) are the target; a sixth of them, jittered by\n"
        "clip(--jitter N(0,1), +-jitter-clip) per coordinate, is the input; the refiner moves\n"
        "every input point by its 6 offsets and learns by Chamfer loss (pytorch3d's: the two\n"
        "mean squared nearest distances). MODEL's other networks are kept as they are (a\n"
        "model without a refiner gets a fresh one), so refiner_latest.safetensors is the whole\n"
        "model, ready for `lidistill complete`. Validation logs val_cd and val_cd_refined of\n"
        "8-step completions of the held-out frames.";
    c.options = withCommon({{"jitter", "M", "input noise std, metres", false, "0.2"},
                            {"jitter-clip", "M", "input noise clip, metres", false, "0.3"},
                            {"batch", "B", "examples a step", false, "1"}},
                           "1e-4", "1.0", 2000);
    c.minPositional = 3;
    c.maxPositional = 1000;
    c.run = runRefiner;
    return c;
}

// ---- the student trainers (train-dpo, train-distill) ----------------------------------------

// A student is trained at its teacher's scale: another tile only with --force-scale.
void checkTile(const Args& args, const ml::ModelScale& scale, int tile) {
    if (tile < 1) throw UsageError("--tile must be >= 1");
    if (tile != scale.tile && !args.flag("force-scale")) {
        throw UsageError("the teacher is of the " + scale.name + " scale (tile " +
                         std::to_string(scale.tile) + "); --tile " + std::to_string(tile) +
                         " leaves it: leave it out, or pass --force-scale");
    }
}

// The options both student trainers take beside their own and the common ones.
std::vector<OptionSpec> studentOptions(std::vector<OptionSpec> own) {
    own.push_back({"tile", "K", "copies of the partial scan in x_init", false, "the teacher's scale"});
    own.push_back({"accumulate", "A", "examples a step, gradients averaged (= A ranks of --nproc)",
                   false, "1"});
    own.push_back({"validation-frame", "I",
                   "hold frame I of the first sequence out of training and validate on it", false,
                   ""});
    own.push_back({"map", "FILE", "map cache (one training sequence)", false, "OUT_DIR/maps/"});
    for (auto& o : studentStateOptionSpecs()) own.push_back(std::move(o));
    return own;
}

const char* const kDdilHelp =
    "\nDDIL (reference 10): --ddil-steps K trains the student at the states of its K sampler\n"
    "steps (999, ..., as `complete --steps K` samples), not only at t = 999: each step picks a\n"
    "step k and a source for its state: forward (the ground truth noised to t_k), teacher (the\n"
    "teacher's sampler run from x_init + eps down to t_k) or student (the student's own), with\n"
    "probabilities --ddil-start F,T,S going linearly to --ddil-end over the run. --replay N\n"
    "keeps N rollout states, reused with probability --replay-prob (saved with the state, so\n"
    "resumed runs repeat uninterrupted ones); --reflect M clamps states and samples to the\n"
    "scan's box grown by M metres. metrics.jsonl then has state_k, state_source (0 forward,\n"
    "1 teacher, 2 student) and replayed.";

// The student trainers' --accumulate, and their refusal of DDIL's per-process replay buffer
// when data-parallel (before the run folder is touched: a run.json would make it "hold a run").
int studentAccumulate(const Args& args, const ml::StudentStateOptions& states,
                      const std::string& command) {
    const auto a = args.integer("accumulate", 1);
    if (a < 1 || a > 64) throw UsageError("--accumulate must be in 1..64");
    if (states.replaySize > 0 &&
        (args.integer("nproc", 1) > 1 || args.integer("world-size", 1) > 1)) {
        throw UsageError(command + " --replay cannot run data-parallel (--nproc / --world-size): "
                         "each process would keep its own rollouts");
    }
    return static_cast<int>(a);
}

// ---- train-dpo -----------------------------------------------------------------------------

int runDpo(const Args& args, Context& ctx) {
    const auto& p = args.positional();
    auto teacher = ml::LidiffModel::load(p[0]);
    if (auto device = args.value("device")) teacher.setDevice(*device);
    ml::DpoOptions d;
    d.noiseScale = args.number("lambda", 1.1);
    d.gradClip = args.number("clip", 0.05);
    d.loserWeight = args.number("loser-weight", 1.0);
    d.beta = args.number("beta", 1000.0);
    d.tile = static_cast<int>(args.integer("tile", teacher.config().scale.tile));
    const std::string objective = args.value("objective", "linear");
    if (objective == "linear") {
        d.objective = ml::DpoOptions::Objective::Linear;
    } else if (objective == "released") {
        d.objective = ml::DpoOptions::Objective::Released;
    } else if (objective == "bounded") {
        d.objective = ml::DpoOptions::Objective::Bounded;
    } else {
        throw UsageError("--objective must be linear, released or bounded, got '" + objective +
                         "'");
    }
    if (!(d.beta > 0) || !std::isfinite(d.beta)) throw UsageError("--beta must be > 0");
    d.states = studentStateOptions(args);
    if (auto store = args.value("pairs")) {
        d.pairStore = fs::absolute(*store);
        d.pairMix = args.number("pairs-mix", 1.0);
        if (!(d.pairMix > 0 && d.pairMix <= 1)) throw UsageError("--pairs-mix must be in (0, 1]");
    } else if (args.value("pairs-mix")) {
        throw UsageError("--pairs-mix needs --pairs STORE");
    }
    if (!(d.noiseScale > 0) || !(d.gradClip >= 0) || !std::isfinite(d.loserWeight)) {
        throw UsageError("--lambda must be positive, --clip >= 0");
    }
    d.accumulate = studentAccumulate(args, d.states, "train-dpo");
    const ml::ModelScale scale = teacher.config().scale;
    checkTile(args, scale, d.tile);
    TerminalProgress prep(ctx.err, "train-dpo: maps", ctx.errIsTerminal);
    auto setup = prepareTraining(args, 1, scale, 1e-5, 0.999, 1000, &prep);
    prep.finish();
    holdOutValidationFrame(args, setup, scale);
    d.learningRate = setup.loop.learningRate;
    auto trainer = ml::makeDpoTrainer(teacher, d);  // --resume: the state file has the student
    writeRunJson(setup, "train-dpo",
                 Json{{"teacher", p[0]},
                      {"objective", objective},
                      {"lambda", d.noiseScale},
                      {"clip", d.gradClip},
                      {"loser_weight", d.loserWeight},
                      {"beta", d.beta},
                      {"tile", d.tile},
                      {"accumulate", d.accumulate},
                      {"pairs", d.pairStore.string()},
                      {"pairs_mix", d.pairStore.empty() ? 0.0 : d.pairMix},
                      {"validation_frame", args.value("validation-frame", "")},
                      {"ddil", studentStateJson(d.states)}});
    return runAndReport(*trainer, setup, "train-dpo", ctx);
}

Command dpoCommand() {
    Command c;
    c.name = "train-dpo";
    c.summary = "Distillation-DPO: train a few-step student from a teacher on sequences";
    c.synopsis = "TEACHER SEQUENCE_DIR... OUT_DIR";
    c.description =
        "Reference 6 with the intended objective (reference 0.2: the released loss has an exactly\n"
        "zero gradient; --objective released keeps it, for ablation; --objective bounded is the\n"
        "Diffusion-DPO-style variant of reference 6.5 with --beta). Each step takes a frame's\n"
        "LiDiff training sample at the teacher's scale, draws a preference pair from the student\n"
        "(noise eps and --lambda eps, one step 999 -> 0), ranks it by Chamfer distance, trains\n"
        "the fake-score pair, then the student (plain SGD, --lr, gradient norm clipped at --clip).\n"
        "OUT_DIR gets metrics.jsonl (a JSON line a step, flushed: loss_g, loss_aux, cd_winner,\n"
        "cd_loser, grad_g, grad_aux; val_cd lines with --validate-every), run.json,\n"
        "student_latest.safetensors, student_step_N.safetensors every --checkpoint-every steps,\n"
        "state_step_N.pt (student, fake scores, optimizers; the latest two), checkpoint.json.\n"
        "Ctrl+C or SIGTERM stops after the current step and saves; --resume goes on.\n"
        "The student file knows it is a student (8 steps, w 3.5): `lidistill complete STUDENT\n"
        "SCAN OUT` samples it as it is meant to run.\n"
        "--pairs STORE trains on the pairs of a pair store (`lidistill pairs make`, the studio's\n"
        "curation) offline, as Diffusion-DPO: both raw samples noised at one timestep, G learns to\n"
        "denoise the winner better and the loser worse than the teacher (-log sigmoid, --beta).\n"
        "A person's verdict replaces the metric's; ties, skips and metric ties are left out; the\n"
        "verdicts are read again every step, so decisions made during the run count at once.\n"
        "--pairs-mix R takes a stored pair in a share R of the steps and an on-policy pair in the\n"
        "rest. metrics.jsonl then also has from_store, pair, pair_human, pairs_usable,\n"
        "pairs_human (usable pairs a person decided) and pref_margin.\n"
        "--accumulate A takes A examples a step (each its own noise and pair), the gradients\n"
        "averaged; --nproc N runs N data-parallel ranks of --accumulate examples each (c10d\n"
        "Gloo): N ranks of one example take the same steps as one process of --accumulate N.\n"
        "The metrics are then means over the examples (scaled_won: the share)." +
        std::string(kDdilHelp);
    c.options = withCommon(
        studentOptions(
            {{"lambda", "L", "noise scale of the second candidate", false, "1.1"},
             {"clip", "C", "gradient norm clip (0: none)", false, "0.05"},
             {"loser-weight", "W", "weight of the loser (repulsive) term", false, "1.0"},
             {"objective", "linear|released|bounded", "generator loss", false, "linear"},
             {"beta", "B", "inverse temperature (bounded objective, stored pairs)", false, "1000"},
             {"pairs", "STORE", "train on the pairs of this pair store", false, ""},
             {"pairs-mix", "R", "share of the steps on stored pairs (with --pairs)", false,
              "1"}}),
        "1e-5", "0.999", 1000);
    c.minPositional = 3;
    c.maxPositional = 1000;
    c.run = runDpo;
    return c;
}

// ---- train-distill (ScoreLiDAR) --------------------------------------------------------------

int runDistill(const Args& args, Context& ctx) {
    const auto& p = args.positional();
    auto teacher = ml::LidiffModel::load(p[0]);
    if (auto device = args.value("device")) teacher.setDevice(*device);
    ml::ScoreLidarOptions o;
    const std::string distill = args.value("objective", "intended");
    if (distill == "intended") {
        o.distill = ml::ScoreLidarOptions::Distill::Intended;
    } else if (distill == "released") {
        o.distill = ml::ScoreLidarOptions::Distill::Released;
    } else {
        throw UsageError("--objective must be intended or released, got '" + distill + "'");
    }
    const std::string structure = args.value("structure", "nearest");
    if (structure == "nearest") {
        o.structure = ml::ScoreLidarOptions::Structure::Nearest;
    } else if (structure == "index") {
        o.structure = ml::ScoreLidarOptions::Structure::IndexAligned;
    } else {
        throw UsageError("--structure must be nearest or index, got '" + structure + "'");
    }
    o.gradClip = args.number("clip", 0.0);
    o.distillWeight = args.number("distill-weight", 1.0);
    o.sceneWeight = args.number("scene-weight", 0.5);
    o.pointWeight = args.number("point-weight", 0.01);
    o.keypointFraction = args.number("keypoints", 1.0 / 30.0);
    o.subsetFraction = args.number("curvature-subset", 0.1);
    o.curvatureNeighbours = static_cast<int>(args.integer("curvature-k", 180));
    o.tile = static_cast<int>(args.integer("tile", teacher.config().scale.tile));
    o.states = studentStateOptions(args);
    const ml::ModelScale scale = teacher.config().scale;
    checkTile(args, scale, o.tile);
    o.accumulate = studentAccumulate(args, o.states, "train-distill");
    TerminalProgress prep(ctx.err, "train-distill: maps", ctx.errIsTerminal);
    auto setup = prepareTraining(args, 1, scale, 3e-5, 1.0, 1000, &prep);
    prep.finish();
    holdOutValidationFrame(args, setup, scale);
    o.learningRate = setup.loop.learningRate;
    std::unique_ptr<ml::Trainer> trainer;
    try {
        trainer = ml::makeScoreLidarTrainer(teacher, o);
    } catch (const InvalidArgument& e) {
        throw UsageError(e.what());
    }
    writeRunJson(setup, "train-distill",
                 Json{{"teacher", p[0]},
                      {"objective", distill},
                      {"structure", structure},
                      {"clip", o.gradClip},
                      {"distill_weight", o.distillWeight},
                      {"scene_weight", o.sceneWeight},
                      {"point_weight", o.pointWeight},
                      {"keypoints", o.keypointFraction},
                      {"curvature_subset", o.subsetFraction},
                      {"curvature_k", o.curvatureNeighbours},
                      {"tile", o.tile},
                      {"accumulate", o.accumulate},
                      {"validation_frame", args.value("validation-frame", "")},
                      {"ddil", studentStateJson(o.states)}});
    return runAndReport(*trainer, setup, "train-distill", ctx);
}

Command distillCommand() {
    Command c;
    c.name = "train-distill";
    c.summary = "ScoreLiDAR: distil a few-step student from a teacher on sequences";
    c.synopsis = "TEACHER SEQUENCE_DIR... OUT_DIR";
    c.description =
        "Reference 5 with the intended objective (5.4; reference 0.2: the released distillation\n"
        "term has an exactly zero gradient, --objective released keeps it, for ablation). The\n"
        "student G, the frozen teacher and a fake score phi start from the teacher's denoiser.\n"
        "Each step: phi learns a sample of G by denoising score matching; then G, on a fresh\n"
        "sample x0 (one SDE-DPM++ jump 999 -> 0 from x_init + eps), follows\n"
        "  --distill-weight mean(sg(eps_T - eps_phi) x0) + --scene-weight L_scene\n"
        "  + --point-weight L_point,\n"
        "L_scene the Chamfer loss to the ground truth by nearest neighbours, L_point the MSE of\n"
        "the distance matrices of the ground truth's highest-curvature points (--keypoints of the\n"
        "generated points, curvature from --curvature-k neighbours in a --curvature-subset) and\n"
        "of their nearest points in x0. --structure index uses the released index-aligned forms\n"
        "(reference 0.3: no correspondence), for ablation. Plain SGD, --lr (3e-5), no clipping\n"
        "unless --clip. OUT_DIR as train-dpo's: metrics.jsonl (loss_g, loss_distill, loss_scene,\n"
        "loss_point, loss_aux, grad_g, grad_aux, cd_sample), run.json, student_latest.safetensors,\n"
        "state_step_N.pt (student, fake score, optimizers, replay buffer), checkpoint.json;\n"
        "Ctrl+C or SIGTERM stops after the current step and saves; --resume goes on. The student\n"
        "file samples with 8 steps, w 3.5 unless `model merge --guidance` says otherwise." +
        std::string(kDdilHelp);
    c.options = withCommon(
        studentOptions(
            {{"objective", "intended|released", "distillation term", false, "intended"},
             {"structure", "nearest|index", "structural losses' correspondences", false,
              "nearest"},
             {"clip", "C", "gradient norm clip (0: none)", false, "0"},
             {"distill-weight", "W", "weight of the distillation term", false, "1"},
             {"scene-weight", "W", "weight of the scene-wise loss", false, "0.5"},
             {"point-weight", "W", "weight of the point-wise (keypoint) loss", false, "0.01"},
             {"keypoints", "F", "keypoints, a fraction of the generated points", false, "1/30"},
             {"curvature-subset", "F", "ground-truth points whose curvature is computed", false,
              "0.1"},
             {"curvature-k", "K", "neighbours of the curvature", false, "180"}}),
        "3e-5", "1.0", 1000);
    c.minPositional = 3;
    c.maxPositional = 1000;
    c.run = runDistill;
    return c;
}

}  // namespace

Command trainDistillCommand() {
    return distillCommand();
}

Command trainTeacherCommand() {
    return teacherCommand();
}
Command trainRefinerCommand() {
    return refinerCommand();
}
Command trainDpoCommand() {
    return dpoCommand();
}

}  // namespace lidistill::cli
#endif  // LIDISTILL_HAVE_ML
