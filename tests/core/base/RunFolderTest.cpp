// SPDX-License-Identifier: MIT
// The run folder's names and its checkpoint record, as writers and readers share them.
#include "core/base/Error.h"
#include "core/base/RunFolder.h"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <unistd.h>

namespace lidistill::run {
namespace {
namespace fs = std::filesystem;

fs::path freshDir(const char* name) {
    const auto d = fs::temp_directory_path() /
                   ("lidistill_runfolder_" + std::to_string(::getpid()) + "_" + name);
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
}

TEST(RunFolder, NamesTheRunsFilesAndOnlyThem) {
    for (const char* f : {"metrics.jsonl", "checkpoint.json", "run.json", "state_step_200.pt",
                          "state_latest.pt", "student_latest.safetensors",
                          "teacher_step_400.safetensors", "events.out.tfevents.1.host.2"}) {
        EXPECT_TRUE(Folder::isRunFile(f)) << f;
    }
    for (const char* f : {"maps", "00-seq.ldmap", "train.log", "studio-run.json", "events.jsonl",
                          "notes.txt", "rank_1.log", "state_step_3.json"}) {
        EXPECT_FALSE(Folder::isRunFile(f)) << f;
    }
    EXPECT_TRUE(Folder::isStateFile("state_step_7.pt"));
    EXPECT_FALSE(Folder::isStateFile("state_step_7.ptx"));
    const Folder f{"/runs/a"};
    EXPECT_EQ(f.state(12), fs::path("/runs/a/state_step_12.pt"));
    EXPECT_EQ(f.latestModel("refiner"), fs::path("/runs/a/refiner_latest.safetensors"));
    EXPECT_EQ(f.stepModel("teacher", 5), fs::path("/runs/a/teacher_step_5.safetensors"));
}

TEST(RunFolder, CheckpointRecordRoundTripsAndKeepsThePreviousOne) {
    const auto dir = freshDir("record");
    const Folder f{dir};
    EXPECT_FALSE(f.holdsRun());
    EXPECT_EQ(lastCheckpointStep(dir), -1);
    writeCheckpointRecord(dir, "teacher_latest.safetensors",
                          {{400, f.state(400), 12.5}, {200, f.state(200), 6.25}, {0, {}, 0}});
    EXPECT_TRUE(f.holdsRun());
    const auto back = readCheckpoints(dir);
    ASSERT_EQ(back.size(), 2u);  // the latest and the one before
    EXPECT_EQ(back[0].step, 400);
    EXPECT_EQ(back[0].state, f.state(400));
    EXPECT_EQ(back[0].seconds, 12.5);
    EXPECT_EQ(back[1].step, 200);
    EXPECT_EQ(back[1].state, f.state(200));
    EXPECT_EQ(lastCheckpointStep(dir), 400);

    std::ofstream(f.checkpointRecord()) << "{\"step\": ";  // cut by a crash of another tool
    try {
        readCheckpoints(dir);
        FAIL() << "a cut record must not read";
    } catch (const IoError& e) {
        EXPECT_EQ(e.file(), f.checkpointRecord());
    }
    fs::remove_all(dir);
}

TEST(RunFolder, CheckpointRecordFromAnotherToolIsRefusedNotTrusted) {
    const auto dir = freshDir("foreign");
    const Folder f{dir};
    // Each names the fault: a state outside the folder would be loaded as this run's, a step
    // of 1e300 does not fit a long long, a negative step or a NaN-like time is no checkpoint.
    const std::pair<const char*, const char*> cases[] = {
        {R"({"step": 4, "state": "../../other/state_step_4.pt"})", "not a state file"},
        {R"({"step": 4, "state": "/etc/passwd"})", "not a state file"},
        {R"({"step": 1e300, "state": "state_step_4.pt"})", "integer \"step\""},
        {R"({"step": -2, "state": "state_step_4.pt"})", "integer \"step\""},
        {R"({"step": 4, "state": 7})", "not a string"},
        {R"({"step": 4, "seconds": -1})", "finite non-negative"},
        {R"({"step": 4, "previous": [1]})", "previous entry is not a JSON object"},
        {R"([4])", "latest entry is not a JSON object"},
    };
    for (const auto& [text, fault] : cases) {
        std::ofstream(f.checkpointRecord(), std::ios::trunc) << text;
        try {
            readCheckpoints(dir);
            ADD_FAILURE() << text << " was read";
        } catch (const IoError& e) {
            EXPECT_EQ(e.file(), f.checkpointRecord()) << text;
            EXPECT_NE(std::string(e.what()).find(fault), std::string::npos) << e.what();
        }
    }
    fs::remove_all(dir);
}

TEST(RunFolder, MetricsUpToAStepStopsAtTheFirstCutLine) {
    const auto dir = freshDir("metrics");
    const Folder f{dir};
    std::ofstream(f.metrics()) << "{\"step\":1,\"loss\":2}\n"
                                  "{\"step\":3,\"loss\":1}\n"
                                  "{\"step\":2,\"val_cd\":0.5}\n"
                                  "{\"step\":2.5}\n"  // not an integer step: ends the trusted part
                                  "{\"step\":1,\"loss\":9}\n";
    EXPECT_EQ(metricsUpTo(f.metrics(), 2),
              "{\"step\":1,\"loss\":2}\n{\"step\":2,\"val_cd\":0.5}\n");
    truncateMetrics(f.metrics(), 1);
    EXPECT_EQ(metricsUpTo(f.metrics(), 100), "{\"step\":1,\"loss\":2}\n");
    truncateMetrics(dir / "absent.jsonl", 1);  // nothing to cut, no file made
    EXPECT_FALSE(fs::exists(dir / "absent.jsonl"));
    fs::remove_all(dir);
}

}  // namespace
}  // namespace lidistill::run
