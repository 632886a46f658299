// SPDX-License-Identifier: MIT
// Runs that hold: `lidistill train-dpo` killed with SIGKILL at random moments and resumed ends
// with the weights and the log of a run never stopped; a corrupt latest checkpoint falls back to
// the one before; a folder holding a run is never started over by accident.
#include "core/ml/ModelImpl.h"
#include "core/ml/training/Distributed.h"
#include "core/ml/training/TrainingLoop.h"
#include "tests/support/RunCli.h"
#include "tests/support/TestData.h"
#include "tests/support/TfEventsReader.h"

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace lidistill::ml {
namespace {
namespace fs = std::filesystem;
using lidistill::test::runCli;

// The real executable in a process of its own: SIGKILL cannot be simulated in-process.
struct Child {
    pid_t pid = -1;
    // Waits up to `seconds`; true and the exit code in `code` if it ended.
    bool waitFor(double seconds, int& code) {
        const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
        for (;;) {
            int status = 0;
            if (::waitpid(pid, &status, WNOHANG) == pid) {
                code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                return true;
            }
            if (std::chrono::steady_clock::now() > end) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }
};

Child spawn(const std::vector<std::string>& words, const fs::path& output) {
    Child c;
    c.pid = ::fork();
    if (c.pid == 0) {
        // One intra-op thread in every run: bit-identical results need the same thread count.
        ::setenv("OMP_NUM_THREADS", "1", 1);
        const int fd = ::open(output.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        std::vector<char*> argv{const_cast<char*>(LIDISTILL_CLI_BINARY)};
        for (const auto& w : words) argv.push_back(const_cast<char*>(w.c_str()));
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    return c;
}

// metrics.jsonl without the wall-clock seconds (the only thing a resumed run may change).
std::vector<nlohmann::json> readLog(const fs::path& file) {
    std::vector<nlohmann::json> out;
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
        auto j = nlohmann::json::parse(line);
        j.erase("seconds");
        out.push_back(j);
    }
    return out;
}

void expectSameNetworks(const LidiffModel& a, const LidiffModel& b) {
    auto na = a.impl().networks(), nb = b.impl().networks();
    ASSERT_EQ(na.size(), nb.size());
    for (std::size_t i = 0; i < na.size(); ++i) {
        const auto pa = na[i].second->named_parameters(true);
        const auto pb = nb[i].second->named_parameters(true);
        ASSERT_EQ(pa.size(), pb.size());
        for (const auto& p : pa) {
            EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << na[i].first << '.' << p.key();
        }
    }
}

// What TensorBoard shows of a run folder's event files: a session START at step s drops the
// points at s and after that earlier files logged. tag -> step -> value.
std::map<std::string, std::map<long long, float>> boardScalars(const fs::path& dir) {
    std::map<std::string, std::map<long long, float>> out;
    for (const auto& e : lidistill::test::tfevents::readFolder(dir)) {
        if (e.sessionStatus == 1) {
            for (auto& [tag, series] : out) series.erase(series.lower_bound(e.step), series.end());
        }
        for (const auto& v : e.values) out[v.tag][e.step] = v.value;
    }
    return out;
}

// Every number of every metrics.jsonl line is on the board at its step, as a float.
void expectBoardMatchesLog(const fs::path& dir) {
    const auto board = boardScalars(dir);
    std::ifstream in(dir / "metrics.jsonl");
    std::size_t checked = 0;
    for (std::string line; std::getline(in, line);) {
        const auto j = nlohmann::json::parse(line);
        const long long step = j.at("step").get<long long>();
        for (const auto& [k, v] : j.items()) {
            if (k == "step" || !v.is_number()) continue;
            ASSERT_TRUE(board.count(k) && board.at(k).count(step)) << k << " at step " << step;
            EXPECT_EQ(board.at(k).at(step), static_cast<float>(v.get<double>())) << k << step;
            ++checked;
        }
    }
    EXPECT_GT(checked, 0u);
    // ... and nothing that the log does not have (a killed process's steps past the checkpoint).
    for (const auto& [tag, series] : board) {
        EXPECT_LE(series.rbegin()->first, lidistill::ml::lastCheckpointStep(dir)) << tag;
    }
}

struct ResumeRun : ::testing::Test {
    fs::path dir = lidistill::test::scratchDir();
    std::string teacher = (dir / "teacher.safetensors").string();
    std::string seq =
        (lidistill::test::sourceDir() / "datasets" / "semantickitti-mini" / "sequences" / "00")
            .string();
    void SetUp() override {
        ASSERT_EQ(runCli({"model", "init", teacher, "--width", "0.25", "--seed", "4", "--points",
                          "200", "--full-points", "2000", "--tile", "2"})
                      .code,
                  0);
        // The map once, so that every run starts at the same cost.
        ASSERT_EQ(runCli({"build-map", seq, (dir / "map.ldmap").string()}).code, 0);
    }
    std::vector<std::string> words(const fs::path& out, long long steps) const {
        return {"train-dpo", teacher, seq, out.string(), "--lr", "1e-2", "--map",
                (dir / "map.ldmap").string(), "--steps", std::to_string(steps),
                "--checkpoint-every", "3", "--seed", "7", "--quiet"};
    }
};

TEST_F(ResumeRun, SigkillAtRandomMomentsThenResumeEqualsAnUninterruptedRun) {
    constexpr long long kSteps = 12;
    const fs::path whole = dir / "whole", parts = dir / "parts";
    int code = -1;
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(spawn(words(whole, kSteps), dir / "whole.txt").waitFor(600, code));
    ASSERT_EQ(code, 0);
    const double wholeSeconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    // Three kills at random moments of a run's life (start-up, steps, checkpoint writes), each
    // attempt resuming the one before; the fourth attempt runs to the end.
    std::mt19937 rng(20261203);
    std::uniform_real_distribution<double> moment(0.2 * wholeSeconds, 0.7 * wholeSeconds);
    int kills = 0;
    for (int attempt = 0; attempt < 4; ++attempt) {
        auto w = words(parts, kSteps);
        w.push_back("--resume");  // also the first time: a folder without a checkpoint starts
        Child c = spawn(w, dir / "parts.txt");
        if (attempt < 3 && !c.waitFor(moment(rng), code)) {
            ::kill(c.pid, SIGKILL);
            ASSERT_TRUE(c.waitFor(60, code));
            ++kills;
            continue;
        }
        ASSERT_TRUE(c.waitFor(600, code));
        ASSERT_EQ(code, 0) << "attempt " << attempt;
        if (attempt < 3) break;  // ended before its kill: nothing left to interrupt
    }
    EXPECT_GE(kills, 2) << "the runs ended before they could be killed";

    expectSameNetworks(LidiffModel::load(parts / "student_latest.safetensors"),
                       LidiffModel::load(whole / "student_latest.safetensors"));
    const auto a = readLog(whole / "metrics.jsonl"), b = readLog(parts / "metrics.jsonl");
    ASSERT_EQ(a.size(), static_cast<std::size_t>(kSteps));
    ASSERT_EQ(b.size(), a.size());
    for (std::size_t k = 0; k < a.size(); ++k) EXPECT_EQ(a[k], b[k]) << "step " << k + 1;
    for (const auto& e : fs::directory_iterator(parts)) {
        EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos)
            << "a killed write's temporary was left: " << e.path();
    }
    expectBoardMatchesLog(parts);
    expectBoardMatchesLog(whole);
    // The whole state resumed, not just the student: the fake-score networks train too, and a
    // step from a fresh fake score would log other numbers (checked by the log above).
}

TEST_F(ResumeRun, CorruptLatestCheckpointFallsBackToThePreviousOne) {
    const fs::path out = dir / "run";
    ASSERT_EQ(runCli(words(out, 6)).code, 0);
    const auto before = readLog(out / "metrics.jsonl");
    // Both checkpoints are kept: step 6 and step 3.
    ASSERT_TRUE(fs::exists(out / "state_step_6.pt"));
    ASSERT_TRUE(fs::exists(out / "state_step_3.pt"));
    fs::resize_file(out / "state_step_6.pt", fs::file_size(out / "state_step_6.pt") / 2);

    auto w = words(out, 7);
    w.push_back("--resume");
    const auto r = runCli(w);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("checkpoint of step 6 cannot be read"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("state_step_6.pt"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("resuming from step 3"), std::string::npos) << r.err;
    const auto after = readLog(out / "metrics.jsonl");
    ASSERT_EQ(after.size(), 7u);
    // Steps 4-6 were taken again from step 3's state: the same steps.
    for (std::size_t k = 0; k < 6; ++k) EXPECT_EQ(after[k], before[k]) << "step " << k + 1;

    // Both unreadable: a clear error, nothing started over.
    fs::resize_file(out / "state_step_7.pt", 10);
    fs::resize_file(out / "state_step_6.pt", 10);
    w = words(out, 8);
    w.push_back("--resume");
    const auto bad = runCli(w);
    EXPECT_EQ(bad.code, 1);
    EXPECT_NE(bad.err.find("no checkpoint of this run can be read"), std::string::npos) << bad.err;
    EXPECT_EQ(readLog(out / "metrics.jsonl").size(), 7u);
}

TEST_F(ResumeRun, AFolderHoldingARunIsNeverStartedOverByAccident) {
    const fs::path out = dir / "run";
    ASSERT_EQ(runCli(words(out, 2)).code, 0);
    const auto log = readLog(out / "metrics.jsonl");

    auto r = runCli(words(out, 2));  // a new run into it
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("holds a run (last checkpoint: step 2)"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("--resume"), std::string::npos) << r.err;
    EXPECT_EQ(readLog(out / "metrics.jsonl"), log) << "the refused run touched the log";

    // --resume with other options: refused, naming each difference; --steps may grow.
    auto w = words(out, 3);
    w[5] = "2e-2";  // --lr
    w.insert(w.end(), {"--resume", "--augment"});
    r = runCli(w);
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("lr 0.01 -> 0.02"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("augment false -> true"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.substr(0, r.err.find('\n')).find("steps"), std::string::npos) << r.err;
    w.push_back("--force");
    r = runCli(w);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(readLog(out / "metrics.jsonl").size(), 3u);

    // --force without --resume starts over: the old log and checkpoints go.
    w = words(out, 1);
    w.push_back("--force");
    r = runCli(w);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(readLog(out / "metrics.jsonl").size(), 1u);
    EXPECT_FALSE(fs::exists(out / "state_step_3.pt"));
    EXPECT_TRUE(fs::exists(out / "state_step_1.pt"));

    // A temporary left by a killed writer (a pid that cannot run) is cleaned at the next start.
    std::ofstream(out / "student_latest.safetensors.tmp999999999_0") << "cut";
    w = words(out, 2);
    w.push_back("--resume");
    EXPECT_EQ(runCli(w).code, 0);
    EXPECT_FALSE(fs::exists(out / "student_latest.safetensors.tmp999999999_0"));
}

// Data-parallel training on c10d Gloo: two processes of one example each take exactly the steps
// of one process that accumulates two micro-batches (the same examples, the same noise, the
// averaged gradient), so their parameters are equal bit for bit (batch-norm running statistics
// follow rank 0's there, so buffers may differ).
TEST(DataParallel, TwoGlooProcessesTrainLikeOneProcessAccumulatingTwo) {
    if (!distributedAvailable()) GTEST_SKIP() << "built without c10d Gloo";
    const fs::path dir = lidistill::test::scratchDir();
    const std::string seq =
        (lidistill::test::sourceDir() / "datasets" / "semantickitti-mini" / "sequences" / "00")
            .string();
    auto words = [&](const fs::path& out, std::vector<std::string> extra) {
        std::vector<std::string> w{"train-teacher", seq,          out.string(), "--width",
                                   "0.25",          "--scale",    "lite",       "--points",
                                   "150",           "--full-points", "1500",    "--frames",
                                   "0:4",           "--steps",    "3",          "--batch",
                                   "1",             "--uncond-prob", "0",       "--seed",
                                   "5",             "--lr",       "1e-3"};
        w.insert(w.end(), extra.begin(), extra.end());
        return w;
    };
    int code = -1;
    ASSERT_TRUE(spawn(words(dir / "two", {"--nproc", "2"}), dir / "two.txt").waitFor(600, code));
    ASSERT_EQ(code, 0);
    ASSERT_TRUE(spawn(words(dir / "one", {"--accumulate", "2"}), dir / "one.txt").waitFor(600, code));
    ASSERT_EQ(code, 0);
    ASSERT_TRUE(spawn(words(dir / "single", {}), dir / "single.txt").waitFor(600, code));
    ASSERT_EQ(code, 0);
    EXPECT_TRUE(fs::exists(dir / "two" / "rank_1.log"));

    auto params = [](const fs::path& file) {
        const auto model = LidiffModel::load(file);
        std::vector<std::pair<std::string, torch::Tensor>> out;
        for (auto& [name, net] : model.impl().networks()) {
            for (const auto& p : net->named_parameters(true)) {
                out.emplace_back(name + "." + p.key(), p.value().clone());
            }
        }
        return out;
    };
    const auto two = params(dir / "two" / "teacher_latest.safetensors");
    const auto one = params(dir / "one" / "teacher_latest.safetensors");
    const auto single = params(dir / "single" / "teacher_latest.safetensors");
    ASSERT_EQ(two.size(), one.size());
    bool singleDiffers = false;
    for (std::size_t i = 0; i < two.size(); ++i) {
        EXPECT_TRUE(torch::equal(two[i].second, one[i].second)) << two[i].first;
        singleDiffers = singleDiffers || !torch::equal(two[i].second, single[i].second);
    }
    // ... and the second rank's examples did count: one process alone ends elsewhere.
    EXPECT_TRUE(singleDiffers);
}

// Every parameter and buffer of every network of a model file, by name.
std::vector<std::pair<std::string, torch::Tensor>> tensorsOf(const fs::path& file) {
    const auto model = LidiffModel::load(file);
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (auto& [name, net] : model.impl().networks()) {
        for (const auto& p : net->named_parameters(true)) {
            out.emplace_back(name + "." + p.key(), p.value().clone());
        }
        for (const auto& b : net->named_buffers(true)) {
            out.emplace_back(name + "." + b.key(), b.value().clone());
        }
    }
    return out;
}

// Data-parallel student training (Distillation-DPO and ScoreLiDAR): two Gloo ranks of one
// example each take exactly the steps of one process that takes two examples a step
// (--accumulate 2): each example's noises, pairs and timesteps, the fake scores' and the
// student's averaged gradients, and the batch-norm running statistics (rank 0's, example 0's),
// so the students are equal bit for bit, buffers included.
void expectRanksEqualAccumulation(const ResumeRun& f, const std::string& command) {
    const fs::path dir = f.dir / command;
    fs::create_directories(dir);
    auto words = [&](const std::string& name, long long steps, std::vector<std::string> extra) {
        auto w = f.words(dir / name, steps);
        w[0] = command;
        w.insert(w.end(), extra.begin(), extra.end());
        return w;
    };
    for (const auto& [name, extra] : std::vector<std::pair<std::string, std::vector<std::string>>>{
             {"two", {"--nproc", "2"}}, {"one", {"--accumulate", "2"}}, {"single", {}}}) {
        int code = -1;
        ASSERT_TRUE(spawn(words(name, 3, extra), dir / (name + ".txt")).waitFor(900, code));
        ASSERT_EQ(code, 0) << command << " " << name;
    }
    EXPECT_TRUE(fs::exists(dir / "two" / "rank_1.log"));
    EXPECT_EQ(readLog(dir / "two" / "metrics.jsonl").size(), 3u);  // rank 0 alone writes

    const auto two = tensorsOf(dir / "two" / "student_latest.safetensors");
    const auto one = tensorsOf(dir / "one" / "student_latest.safetensors");
    const auto single = tensorsOf(dir / "single" / "student_latest.safetensors");
    ASSERT_EQ(two.size(), one.size());
    ASSERT_EQ(two.size(), single.size());
    bool singleDiffers = false;
    for (std::size_t i = 0; i < two.size(); ++i) {
        EXPECT_TRUE(torch::equal(two[i].second, one[i].second)) << command << " " << two[i].first;
        singleDiffers = singleDiffers || !torch::equal(two[i].second, single[i].second);
    }
    // The second rank's example counted: one example a step ends elsewhere.
    EXPECT_TRUE(singleDiffers) << command;

    // DDIL's replay buffer is per process: refused before the folder is touched.
    const auto r =
        runCli(words("replay", 1, {"--nproc", "2", "--ddil-steps", "2", "--replay", "4"}));
    EXPECT_EQ(r.code, 2) << command;
    EXPECT_NE(r.err.find("--replay cannot run data-parallel"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir / "replay" / "run.json"));
}

TEST_F(ResumeRun, TwoGlooDpoRanksTrainLikeOneProcessAccumulatingTwo) {
    if (!distributedAvailable()) GTEST_SKIP() << "built without c10d Gloo";
    expectRanksEqualAccumulation(*this, "train-dpo");
}

TEST_F(ResumeRun, TwoGlooScoreLidarRanksTrainLikeOneProcessAccumulatingTwo) {
    if (!distributedAvailable()) GTEST_SKIP() << "built without c10d Gloo";
    expectRanksEqualAccumulation(*this, "train-distill");
}

}  // namespace
}  // namespace lidistill::ml
