// SPDX-License-Identifier: MIT
#include "core/ml/training/TrainingLoop.h"

#include "core/base/AtomicFile.h"
#include "core/base/Error.h"
#include "core/base/Log.h"
#include "core/base/TensorBoardWriter.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <future>
#include <iomanip>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>

namespace lidistill::ml {
namespace {
namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

struct FrameRef {
    std::size_t source;
    std::size_t frame;
};

// Example e of the run: epoch e / n visits every training frame once, in an order drawn from
// the seed and the epoch only.
class FrameOrder {
public:
    FrameOrder(const std::vector<TrainingSource>& sources, std::uint64_t seed) : m_seed(seed) {
        for (std::size_t s = 0; s < sources.size(); ++s) {
            for (auto f : sources[s].frames) m_all.push_back({s, f});
        }
        if (m_all.empty()) throw InvalidArgument("training: no training frames");
    }
    std::size_t size() const { return m_all.size(); }
    FrameRef at(std::uint64_t example) {
        std::lock_guard lock(m_mutex);  // the prefetching thread asks too
        const std::uint64_t epoch = example / m_all.size();
        if (epoch != m_epoch || m_order.empty()) {
            m_order = m_all;
            std::mt19937_64 rng(m_seed * 1000003u + epoch);
            std::shuffle(m_order.begin(), m_order.end(), rng);
            m_epoch = epoch;
        }
        return m_order[example % m_all.size()];
    }

private:
    std::uint64_t m_seed;
    std::vector<FrameRef> m_all, m_order;
    std::uint64_t m_epoch = ~std::uint64_t{0};
    std::mutex m_mutex;
};

Json recordJson(long long step, const MetricsRecord& r) {
    Json j{{"step", step}};
    for (const auto& [k, v] : r) {
        if (std::isfinite(v)) {
            j[k] = v;
        } else {
            j[k] = nullptr;  // JSON has no NaN; the reader sees a missing value
        }
    }
    return j;
}

}  // namespace

TrainingExample lidiffExample(const TrainingSource& source, std::size_t frame, std::uint64_t seed,
                              const dataset::TrainingSampleOptions& options) {
    auto s = dataset::makeTrainingSample(*source.sequence, *source.map, frame, seed, options);
    return {std::move(s.partial), std::move(s.full)};
}

LoopResult runTrainingLoop(Trainer& trainer, const std::vector<TrainingSource>& sources,
                           const std::vector<ValidationFrame>& validation,
                           const LoopOptions& o, const fs::path& outDir, ProgressSink* progress,
                           std::ostream* print, const ExampleMaker& makeExample) {
    if (o.steps < 1 || o.checkpointEvery < 1 || o.validateEvery < 0) {
        throw InvalidArgument("training: steps and checkpoint interval must be positive");
    }
    FrameOrder order(sources, o.seed);
    fs::create_directories(outDir);
    const std::string name = trainer.modelName();
    const run::Folder folder{outDir};
    const fs::path latest = folder.latestModel(name);
    const fs::path logFile = folder.metrics();
    const int rank = o.group ? o.group->rank() : 0;
    const int world = o.group ? o.group->size() : 1;
    const bool writer = rank == 0;  // only rank 0 writes the run folder
    if (o.group && !trainer.setProcessGroup(o.group) && world > 1) {
        throw InvalidArgument(trainer.modelName() + " training cannot run data-parallel");
    }
    if (writer) removeStaleTemporaries(outDir);

    LoopResult result;
    result.latestModel = latest;
    long long step = 0;
    double secondsBefore = 0;  // training seconds of the earlier invocations
    std::vector<CheckpointRecord> kept;  // checkpoint.json's records, latest first
    if (o.resume) {
        kept = readCheckpoints(outDir);
        std::string failures;
        for (std::size_t i = 0; i < kept.size(); ++i) {
            try {
                trainer.loadState(kept[i].state);
            } catch (const IoError& e) {
                failures += std::string(failures.empty() ? "" : "; ") + e.what();
                continue;
            }
            if (i > 0) {
                log::warn("training: the checkpoint of step ", kept[0].step,
                          " cannot be read (", failures, "); resuming from step ", kept[i].step);
                kept.erase(kept.begin(), kept.begin() + static_cast<long>(i));
                if (writer) trainer.model().save(latest);  // it may hold the unreadable step's
            }
            step = kept.front().step;
            secondsBefore = kept.front().seconds;
            failures.clear();
            break;
        }
        if (!failures.empty()) {
            throw IoError(folder.checkpointRecord(),
                          "no checkpoint of this run can be read: " + failures);
        }
        if (kept.empty() && !o.quietResume && writer) {
            log::warn("training: ", outDir.string(), " holds no checkpoint yet; starting at step 0");
        }
        if (writer) run::truncateMetrics(logFile, step);  // the reader the fuzzer runs
    } else if (writer && fs::exists(logFile)) {
        fs::remove(logFile);
    }
    result.firstStep = step;

    const int batch = trainer.batchSize();
    auto seedOf = [&](long long k) { return o.seed * 1000003u + static_cast<std::uint64_t>(k); };
    auto batchOf = [&](long long k) {
        std::vector<TrainingExample> b;
        for (int j = 0; j < batch; ++j) {
            const auto e = (static_cast<std::uint64_t>(k) * world + rank) * batch + j;
            const FrameRef f = order.at(e);
            b.push_back(makeExample(sources[f.source], f.frame,
                                    seedOf(k) * 131u + static_cast<std::uint64_t>(rank * batch + j),
                                    o.sample));
        }
        return b;
    };
    const auto t0 = std::chrono::steady_clock::now();
    auto seconds = [&] {
        return secondsBefore +
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    // State first, then the record that names it (synced): a kill between the two leaves the
    // record naming the previous, complete state. The two latest states stay on disk.
    auto saveCheckpoint = [&](long long k) {
        trainer.model().save(latest);
        if (k % o.checkpointEvery == 0) trainer.model().save(folder.stepModel(name, k));
        const fs::path state = folder.state(k);
        trainer.saveState(state);
        const CheckpointRecord now{k, state, seconds()};
        if (!kept.empty() && kept.front().step != k) {
            kept = {now, kept.front()};
        } else {
            kept = {now};
        }
        run::writeCheckpointRecord(outDir, latest.filename().string(), kept);
        // Older states (and a state_latest.pt of an earlier version) are no longer named.
        std::error_code ec;
        for (fs::directory_iterator it(outDir, ec), end; !ec && it != end; it.increment(ec)) {
            const std::string f = it->path().filename().string();
            if (!run::Folder::isStateFile(f)) continue;
            bool named = false;
            for (const auto& c : kept) named = named || c.state.filename() == f;
            std::error_code rm;
            if (!named) fs::remove(it->path(), rm);
        }
    };

    std::ofstream log;
    std::optional<TensorBoardWriter> board;
    if (writer) {
        log.open(logFile, std::ios::app);
        if (!log) throw IoError(logFile, "cannot open for appending");
        // The same scalars for TensorBoard: a new event file per process start; a resumed run
        // tells it to drop what the earlier process logged after the checkpoint.
        board.emplace(outDir);
        if (step > 0) board->restartAt(step + 1);
    }
    // The next batch is read while the current step computes.
    std::future<std::vector<TrainingExample>> next;
    if (step < o.steps) next = std::async(std::launch::async, batchOf, step);
    long long saved = step;
    try {
        while (step < o.steps) {
            if (progress) progress->report(double(step) / double(o.steps), "training");
            bool stop = progress && progress->cancelled();
            if (world > 1) stop = o.group->anyTrue(stop);  // every rank stops at this step
            if (stop) throw Cancelled();
            const auto examples = next.get();
            if (step + 1 < o.steps) next = std::async(std::launch::async, batchOf, step + 1);
            const auto epoch = static_cast<double>(
                static_cast<std::uint64_t>(step) * batch * world / order.size());
            const double lr = o.learningRate * std::pow(o.lrDecay, epoch);
            trainer.setLearningRate(lr);
            trainer.setProgress(step, o.steps);
            auto record = trainer.step(examples, seedOf(step));
            ++step;
            if (!writer) continue;
            record.emplace_back("lr", lr);
            record.emplace_back("seconds", seconds());
            Json line = recordJson(step, record);
            if (examples.size() == 1) {
                // Which frame, for people reading the log (a batch has several).
                const FrameRef f = order.at(static_cast<std::uint64_t>(step - 1) * world * batch);
                line["frame"] = sources[f.source].sequence->frameName(f.frame);
            }
            log << line.dump() << std::endl;  // flushed: the studio follows this file
            if (o.onRecord) o.onRecord(line.dump());
            board->write(step, record);
            if (print && o.printEvery > 0 && step % o.printEvery == 0) {
                *print << name << " step " << step << "/" << o.steps;
                for (std::size_t i = 0; i < std::min<std::size_t>(record.size(), 3); ++i) {
                    *print << "  " << record[i].first << " " << std::setprecision(4)
                           << record[i].second;
                }
                *print << "  " << std::fixed << std::setprecision(1) << seconds() << " s\n"
                       << std::defaultfloat << std::flush;
            }
            if (step % o.checkpointEvery == 0 || step == o.steps) {
                saveCheckpoint(step);
                saved = step;
            }
            if (o.validateEvery > 0 && step % o.validateEvery == 0 && !validation.empty()) {
                MetricsRecord mean;
                for (std::size_t v = 0; v < validation.size(); ++v) {
                    const auto r = trainer.validate(validation[v].scan, validation[v].truth,
                                                    o.seed + v);
                    if (mean.empty()) {
                        for (const auto& [k, x] : r) mean.emplace_back(k, 0.0);
                    }
                    for (std::size_t i = 0; i < r.size() && i < mean.size(); ++i) {
                        mean[i].second += r[i].second / double(validation.size());
                    }
                }
                mean.emplace_back("val_frames", static_cast<double>(validation.size()));
                mean.emplace_back("seconds", seconds());
                Json val = recordJson(step, mean);
                val["val_frame"] = validation.size() == 1
                                       ? validation[0].name
                                       : std::to_string(validation.size()) + " frames";
                log << val.dump() << std::endl;
                if (o.onRecord) o.onRecord(val.dump());
                board->write(step, mean);
                if (print) {
                    *print << name << " step " << step << " validation:";
                    for (const auto& [k, x] : mean) {
                        *print << ' ' << k << ' ' << std::setprecision(4) << x;
                    }
                    *print << '\n' << std::flush;
                }
            }
        }
    } catch (const Cancelled&) {
        if (next.valid()) next.wait();
        if (writer && step > saved) saveCheckpoint(step);
        throw;
    }
    result.lastStep = step;
    result.seconds = seconds() - secondsBefore;
    return result;
}

}  // namespace lidistill::ml
