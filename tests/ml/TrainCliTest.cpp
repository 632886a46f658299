// SPDX-License-Identifier: MIT
// `lidistill train-dpo` in-process on the bundled sequence with a tiny teacher.
#include "core/cli/TrainSetup.h"
#include "core/ml/ModelImpl.h"
#include "tests/support/RunCli.h"
#include "tests/support/TestData.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace lidistill::ml {
namespace {
namespace fs = std::filesystem;
using lidistill::test::runCli;

std::vector<nlohmann::json> readLog(const fs::path& file) {
    std::vector<nlohmann::json> out;
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
    return out;
}

bool sameDenoiser(const LidiffModel& a, const LidiffModel& b) {
    const auto pa = a.impl().denoiser->parameters(), pb = b.impl().denoiser->parameters();
    for (std::size_t i = 0; i < pa.size(); ++i) {
        if (!torch::equal(pa[i], pb[i])) return false;
    }
    return true;
}

struct TrainRun : ::testing::Test {
    fs::path dir = lidistill::test::scratchDir();
    std::string teacher = (dir / "teacher.safetensors").string();
    std::string seq =
        (lidistill::test::sourceDir() / "datasets" / "semantickitti-mini" / "sequences" / "00")
            .string();
    void SetUp() override {
        // A small scale of its own: 200 partial points x 2, 2000 ground-truth points.
        ASSERT_EQ(runCli({"model", "init", teacher, "--width", "0.25", "--seed", "4", "--points",
                          "200", "--full-points", "2000", "--tile", "2"})
                      .code,
                  0);
    }
    lidistill::test::CliResult train(const fs::path& out, std::vector<std::string> extra) {
        std::vector<std::string> words{"train-dpo", teacher, seq,     out.string(),
                                       "--lr",      "1e-2",  "--map", (dir / "map.ldmap").string()};
        words.insert(words.end(), extra.begin(), extra.end());
        return runCli(words);
    }
};

TEST_F(TrainRun, LogsEveryStepCheckpointsValidatesAndMovesTheStudent) {
    const auto out = dir / "run";
    const auto r = train(out, {"--steps", "3", "--checkpoint-every", "2", "--validate-every", "3",
                               "--validation-frame", "1"});
    ASSERT_EQ(r.code, 0) << r.err;
    for (const char* f : {"run.json", "metrics.jsonl", "student_latest.safetensors",
                          "student_step_2.safetensors"}) {
        EXPECT_TRUE(fs::exists(out / f)) << f;
    }
    const auto log = readLog(out / "metrics.jsonl");
    ASSERT_EQ(log.size(), 4u);
    // 5 frames an epoch: the three steps share epoch 0's learning rate.
    for (int k = 0; k < 3; ++k) EXPECT_DOUBLE_EQ(log[k].at("lr").get<double>(), 1e-2);
    for (int k = 0; k < 3; ++k) {
        const auto& j = log[k];
        EXPECT_EQ(j.at("step").get<int>(), k + 1);
        for (const char* key : {"loss_g", "loss_aux", "cd_winner", "cd_loser", "grad_g"}) {
            ASSERT_TRUE(j.contains(key)) << key;
            EXPECT_TRUE(std::isfinite(j.at(key).get<double>())) << key;
        }
        EXPECT_LE(j.at("cd_winner").get<double>(), j.at("cd_loser").get<double>());
        EXPECT_GT(j.at("grad_g").get<double>(), 0.0);
    }
    EXPECT_GT(log[3].at("val_cd").get<double>(), 0.0);
    EXPECT_EQ(log[3].at("val_frame").get<std::string>(), "000001");

    const auto student = LidiffModel::load(out / "student_latest.safetensors");
    EXPECT_FALSE(sameDenoiser(student, LidiffModel::load(teacher))) << "the student did not move";
    // The student completes like any model file.
    EXPECT_EQ(runCli({"complete", (out / "student_latest.safetensors").string(),
                      seq + "/velodyne/000000.bin", (dir / "c.bin").string(), "--steps", "8",
                      "--guidance", "3.5", "--points", "100", "--tile", "2"})
                  .code,
              0);
}

TEST_F(TrainRun, ResumeVisitsTheFramesOfAnUninterruptedRun) {
    ASSERT_EQ(train(dir / "whole", {"--steps", "5"}).code, 0);
    ASSERT_EQ(train(dir / "parts", {"--steps", "2"}).code, 0);
    const auto r = train(dir / "parts", {"--steps", "5", "--resume"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("trained 3 step(s) (5 in all)"), std::string::npos) << r.out;
    const auto whole = readLog(dir / "whole" / "metrics.jsonl");
    const auto parts = readLog(dir / "parts" / "metrics.jsonl");
    ASSERT_EQ(whole.size(), 5u);
    ASSERT_EQ(parts.size(), 5u);
    for (int k = 0; k < 5; ++k) {
        EXPECT_EQ(parts[k].at("step"), whole[k].at("step"));
        EXPECT_EQ(parts[k].at("frame"), whole[k].at("frame")) << k;
    }
}

TEST_F(TrainRun, LearningRateDecaysOnceAnEpoch) {
    const auto out = dir / "decay";
    ASSERT_EQ(train(out, {"--steps", "3", "--frames", "0:2", "--lr-decay", "0.5"}).code, 0);
    const auto log = readLog(out / "metrics.jsonl");
    ASSERT_EQ(log.size(), 3u);
    EXPECT_DOUBLE_EQ(log[0].at("lr").get<double>(), 1e-2);
    EXPECT_DOUBLE_EQ(log[1].at("lr").get<double>(), 1e-2);
    EXPECT_DOUBLE_EQ(log[2].at("lr").get<double>(), 0.5e-2);  // second pass over 2 frames
    EXPECT_EQ(train(out, {"--lr-decay", "1.5"}).code, 2);
}

TEST_F(TrainRun, ReleasedObjectiveLeavesTheStudentAsTheTeacher) {
    const auto out = dir / "released";
    ASSERT_EQ(train(out, {"--steps", "2", "--objective", "released"}).code, 0);
    for (const auto& j : readLog(out / "metrics.jsonl")) {
        EXPECT_EQ(j.at("grad_g").get<double>(), 0.0);
    }
    EXPECT_TRUE(sameDenoiser(LidiffModel::load(out / "student_latest.safetensors"),
                             LidiffModel::load(teacher)));
}

TEST_F(TrainRun, UsageErrors) {
    EXPECT_EQ(train(dir / "x", {"--objective", "dpo"}).code, 2);
    EXPECT_EQ(train(dir / "x", {"--validate-every", "5"}).code, 2);
    EXPECT_EQ(train(dir / "x", {"--validation-frame", "99"}).code, 2);
    EXPECT_EQ(train(dir / "x", {"--lr", "0"}).code, 2);
    EXPECT_EQ(train(dir / "x", {"--frames", "3:2"}).code, 2);
    // Options of another scale than the teacher's are refused, naming it.
    const auto r = train(dir / "x", {"--points", "18000"});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("scale"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("partial points 18000 vs 200"), std::string::npos) << r.err;
    EXPECT_EQ(train(dir / "x", {"--tile", "10"}).code, 2);
}

TEST_F(TrainRun, TeacherAndRefinerRunsKeepTheRunFolderContract) {
    const auto out = dir / "teacher-run";
    auto r = runCli({"train-teacher",
                     seq,
                     out.string(),
                     "--width",
                     "0.25",
                     "--scale",
                     "lite",
                     "--points",
                     "150",
                     "--full-points",
                     "1500",
                     "--frames",
                     "0:3",
                     "--steps",
                     "3",
                     "--batch",
                     "2",
                     "--checkpoint-every",
                     "2",
                     "--validate-every",
                     "3",
                     "--validation",
                     seq,
                     "--validation-frames",
                     "4:5",
                     "--val-steps",
                     "2"});
    ASSERT_EQ(r.code, 0) << r.err;
    for (const char* f :
         {"run.json", "metrics.jsonl", "teacher_latest.safetensors", "teacher_step_2.safetensors",
          "state_step_2.pt", "state_step_3.pt", "checkpoint.json"}) {
        EXPECT_TRUE(fs::exists(out / f)) << f;
    }
    const auto log = readLog(out / "metrics.jsonl");
    ASSERT_EQ(log.size(), 4u);
    for (int k = 0; k < 3; ++k) {
        EXPECT_TRUE(std::isfinite(log[k].at("loss").get<double>()));
        EXPECT_EQ(log[k].at("points").get<double>(), 3000.0);  // two examples of 1500
    }
    EXPECT_GT(log[3].at("val_cd").get<double>(), 0.0);
    EXPECT_EQ(log[3].at("val_frame").get<std::string>(), "000004");
    const auto model = LidiffModel::load(out / "teacher_latest.safetensors");
    EXPECT_EQ(model.config().scale.partialPoints, 150u);  // the scale travels with the model
    EXPECT_EQ(model.config().voxelSize, 0.1);

    // Validating on a training frame is refused.
    r = runCli({"train-teacher", seq, (dir / "t2").string(), "--steps", "1", "--validation", seq,
                "--validation-frames", "0:1"});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("also a training frame"), std::string::npos) << r.err;

    // The refiner: a fresh one beside the teacher's networks, trained into refiner_latest.
    const auto rout = dir / "refiner-run";
    r = runCli({"train-refiner", (out / "teacher_latest.safetensors").string(), seq, rout.string(),
                "--steps", "2", "--frames", "0:2"});
    ASSERT_EQ(r.code, 0) << r.err;
    const auto refined = LidiffModel::load(rout / "refiner_latest.safetensors");
    EXPECT_TRUE(refined.config().hasRefiner);
    EXPECT_TRUE(sameDenoiser(refined, model)) << "train-refiner must keep the teacher as it is";
    const auto rlog = readLog(rout / "metrics.jsonl");
    ASSERT_EQ(rlog.size(), 2u);
    EXPECT_GT(rlog[0].at("loss").get<double>(), 0.0);
}

// train-distill (ScoreLiDAR) keeps the run-folder contract, moves the student, logs its losses;
// the released objective without structural losses leaves it the teacher.
TEST_F(TrainRun, DistillRunLogsItsLossesAndMovesTheStudent) {
    const auto out = dir / "distill";
    auto words = [&](const fs::path& o, std::vector<std::string> extra) {
        std::vector<std::string> w{"train-distill", teacher, seq,     o.string(),
                                   "--lr",          "1e-3",  "--map", (dir / "map.ldmap").string()};
        w.insert(w.end(), extra.begin(), extra.end());
        return w;
    };
    auto r = runCli(words(out, {"--steps", "2", "--validate-every", "2", "--validation-frame", "1",
                                "--curvature-k", "16"}));
    ASSERT_EQ(r.code, 0) << r.err;
    const auto log = readLog(out / "metrics.jsonl");
    ASSERT_EQ(log.size(), 3u);
    for (int k = 0; k < 2; ++k) {
        for (const char* key : {"loss_g", "loss_distill", "loss_scene", "loss_point", "loss_aux",
                                "grad_g", "grad_aux", "cd_sample"}) {
            ASSERT_TRUE(log[k].contains(key)) << key;
            EXPECT_TRUE(std::isfinite(log[k].at(key).get<double>())) << key;
        }
        EXPECT_GT(log[k].at("loss_scene").get<double>(), 0.0);
        EXPECT_GT(log[k].at("loss_point").get<double>(), 0.0);
        EXPECT_FALSE(log[k].contains("state_k"));  // no DDIL: today's states, not logged
    }
    EXPECT_GT(log[2].at("val_cd").get<double>(), 0.0);
    EXPECT_FALSE(sameDenoiser(LidiffModel::load(out / "student_latest.safetensors"),
                              LidiffModel::load(teacher)));
    std::ifstream runJson(out / "run.json");
    const auto j = nlohmann::json::parse(runJson);
    EXPECT_EQ(j.at("command"), "train-distill");
    EXPECT_EQ(j.at("structure"), "nearest");
    EXPECT_EQ(j.at("ddil").at("ddil_steps"), 1);

    // Released distillation term alone: exactly zero gradient, the student stays the teacher.
    const auto released = dir / "distill-released";
    r = runCli(words(released, {"--steps", "2", "--objective", "released", "--scene-weight", "0",
                                "--point-weight", "0"}));
    ASSERT_EQ(r.code, 0) << r.err;
    for (const auto& line : readLog(released / "metrics.jsonl")) {
        EXPECT_EQ(line.at("grad_g").get<double>(), 0.0);
        EXPECT_NE(line.at("loss_distill").get<double>(), 0.0);
    }
    EXPECT_TRUE(sameDenoiser(LidiffModel::load(released / "student_latest.safetensors"),
                             LidiffModel::load(teacher)));

    EXPECT_EQ(runCli(words(dir / "y", {"--objective", "dpo"})).code, 2);
    EXPECT_EQ(runCli(words(dir / "y", {"--structure", "chamfer"})).code, 2);
    EXPECT_EQ(runCli(words(dir / "y", {"--keypoints", "0.5"})).code, 2);  // > the subset
    // Data-parallel runs (tests/ml/ResumeKillTest.cpp) except with a per-process replay buffer.
    EXPECT_EQ(runCli(words(dir / "y", {"--nproc", "2", "--ddil-steps", "2", "--replay", "4"})).code,
              2);
    EXPECT_EQ(runCli(words(dir / "y", {"--accumulate", "0"})).code, 2);
}

// DDIL options: states at the student's K steps, logged per step, and refused when malformed.
TEST_F(TrainRun, DdilStatesAreDrawnLoggedAndValidated) {
    const auto out = dir / "ddil";
    const auto r = train(out, {"--steps", "4", "--ddil-steps", "4", "--ddil-start", "0.5,0.5,0",
                               "--ddil-end", "0,0,1", "--replay", "4", "--replay-prob", "0.5"});
    ASSERT_EQ(r.code, 0) << r.err;
    const auto log = readLog(out / "metrics.jsonl");
    ASSERT_EQ(log.size(), 4u);
    for (const auto& j : log) {
        const int k = j.at("state_k").get<int>();
        EXPECT_GE(k, 0);
        EXPECT_LT(k, 4);
        const int src = j.at("state_source").get<int>();
        EXPECT_GE(src, 0);
        EXPECT_LE(src, 2);
    }
    // Step 0 draws at progress 0, where the student's own rollouts have probability 0.
    if (log[0].at("replayed").get<int>() == 0) {
        EXPECT_NE(log[0].at("state_source").get<int>(), 2);
    }
    EXPECT_EQ(train(dir / "z", {"--ddil-start", "0,0,1"}).code, 2);  // needs --ddil-steps > 1
    EXPECT_EQ(train(dir / "z", {"--ddil-steps", "4", "--ddil-start", "0.5,0.5"}).code, 2);
    EXPECT_EQ(train(dir / "z", {"--ddil-steps", "4", "--ddil-start", "0.5,0.6,0"}).code, 2);
    EXPECT_EQ(train(dir / "z", {"--ddil-steps", "4", "--replay-prob", "0.5"}).code, 2);
    EXPECT_EQ(train(dir / "z", {"--ddil-steps", "0"}).code, 2);
}

// --nproc re-executes /proc/self/exe: from a test binary that would be the test binary, which
// then runs every test again (a CI run was spoiled so). Only the lidistill executable may.
TEST(TrainRanks, OnlyTheLidistillExecutableStartsRanks) {
    EXPECT_NO_THROW(cli::checkRankExecutable("/usr/local/bin/lidistill"));
    EXPECT_NO_THROW(cli::checkRankExecutable("/work/build/app/lidistill"));
    try {
        cli::checkRankExecutable("/work/build/tests/ml/test_ml_cli");
        ADD_FAILURE() << "a test binary was accepted";
    } catch (const cli::UsageError& e) {
        EXPECT_NE(std::string(e.what()).find("test_ml_cli"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("--world-size"), std::string::npos) << e.what();
    }
    EXPECT_THROW(cli::checkRankExecutable(""), cli::UsageError);
}

// A run.json that is JSON but not a record (hand-edited, another program's) is refused on
// --resume naming the file, not an internal error.
TEST_F(TrainRun, ResumeRefusesARunRecordThatIsNotAnObject) {
    const auto out = dir / "odd";
    ASSERT_EQ(train(out, {"--steps", "1"}).code, 0);
    std::ofstream(out / "run.json") << "[{\"lr\": 0.01}, 2]\n";
    const auto r = train(out, {"--steps", "2", "--resume"});
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("run.json"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("not a JSON object"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace lidistill::ml
