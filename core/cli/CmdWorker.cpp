// SPDX-License-Identifier: MIT
#ifdef LIDISTILL_HAVE_ML
#include "core/base/AtomicFile.h"
#include "core/base/Base64.h"
#include "core/base/XyzCodec.h"
#include "core/base/Error.h"
#include "core/base/Events.h"
#include "core/base/WorkerRequest.h"
#include "core/cli/Cli.h"
#include "core/cli/Command.h"
#include "core/cli/CompleteOptions.h"
#include "core/cli/TerminalProgress.h"
#include "core/cli/Worker.h"
#include "core/ml/Completion.h"
#include "core/ml/Model.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace lidistill::cli {
namespace {
namespace fs = std::filesystem;
using Json = nlohmann::json;

// What the reading thread and the job thread share; the reader may outlive runWorker (it can
// be blocked on a terminal's stdin), so it holds this by shared_ptr.
struct Inbox {
    std::mutex mutex;
    std::condition_variable ready;
    std::deque<Json> ops;
    std::string current;                  // the running job's id
    std::set<std::string> cancelledJobs;  // cancelled before they ran
    std::atomic<bool> cancel{false};      // the running job
};

void readRequests(std::istream& in, const std::shared_ptr<Inbox>& inbox) {
    for (std::string line; std::getline(in, line);) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        auto request = worker::parseRequest(line);
        Json op = std::move(request.body);
        if (!request.error.empty()) {
            op = Json{{"op", "request"}, {"bad", true}, {"message", request.error}};
            if (!request.job.empty()) op["job"] = request.job;
        }
        std::lock_guard lock(inbox->mutex);
        const std::string kind = op["op"].get<std::string>();
        if (kind == "cancel") {
            const std::string job = op.value("job", "");
            if (job == inbox->current) {
                inbox->cancel = true;
            } else {
                inbox->cancelledJobs.insert(job);
            }
            continue;
        }
        inbox->ops.push_back(std::move(op));
        inbox->ready.notify_one();
        if (kind == "quit") return;
    }
    std::lock_guard lock(inbox->mutex);
    inbox->ops.push_back(Json{{"op", "quit"}});
    inbox->ready.notify_one();
}

class JobProgress final : public ProgressSink {
public:
    JobProgress(events::Stream& stream, const std::atomic<bool>& cancel)
        : m_stream(stream), m_cancel(cancel) {}
    void report(double fraction, std::string_view stage) override {
        m_stream.progress(fraction, stage);
    }
    bool cancelled() const override { return m_cancel.load() || interruptRequested(); }

private:
    events::Stream& m_stream;
    const std::atomic<bool>& m_cancel;
};

class Worker {
public:
    Worker(events::Stream& stream, std::ostream& err, fs::path cacheDir)
        : m_stream(stream), m_err(err), m_cacheDir(std::move(cacheDir)) {}

    // One request; false for quit.
    bool handle(const Json& op, const std::atomic<bool>& cancel) {
        const std::string kind = op["op"].get<std::string>();
        if (kind == "quit") return false;
        m_stream.started(kind, {});
        try {
            if (op.value("bad", false)) throw UsageError(op.value("message", "bad request"));
            if (kind == "load_model") {
                loadModel(op);
            } else if (kind == "complete") {
                complete(op, cancel);
            } else if (kind == "describe") {
                describe(op);
            } else if (kind == "ping") {
                m_stream.result({}, {{"pid", double(::getpid())}, {"models", double(m_models.size())}});
            } else {
                throw UsageError("unknown op '" + kind +
                                 "' (load_model, describe, complete, cancel, ping, quit)");
            }
            m_stream.ended(kOk, "ok");
        } catch (const Cancelled&) {
            m_stream.error(events::ErrorCode::Cancelled, "cancelled");
            m_stream.ended(kFailure, "cancelled");
        } catch (const std::exception& e) {
            const auto code = errorCodeOf(e);
            const auto* io = dynamic_cast<const IoError*>(&e);
            m_stream.error(code, e.what(), io ? io->file().string() : std::string());
            const bool usage = code == events::ErrorCode::Usage;
            m_stream.ended(usage ? kUsage : kFailure, usage ? "usage" : "failed");
        }
        return true;
    }

private:
    // The file a request names by path (`pathKey`) or uploads (`dataKey`, base64); empty when
    // it has neither. An upload gets a file of its own: the loader reads files, and a crash
    // leaves nothing half-written.
    fs::path modelFileOf(const Json& op, const char* pathKey, const char* dataKey) {
        if (op.contains(pathKey)) return op[pathKey].get<std::string>();
        if (!op.contains(dataKey)) return {};
        const auto bytes = base64Decode(op[dataKey].get<std::string>());
        if (!bytes) throw UsageError(std::string("load_model: \"") + dataKey + "\" is not base64");
        const fs::path file = m_cacheDir / (std::to_string(m_uploads++) + ".safetensors");
        writeStreamAtomically(file, [&](std::ostream& os) { os << *bytes; });
        return file;
    }

    void loadModel(const Json& op) {
        const std::string name = op.value("model", "");
        if (name.empty()) throw UsageError("load_model needs \"model\" (a name for later jobs)");
        fs::path file = modelFileOf(op, "path", "data");
        if (file.empty()) throw UsageError("load_model needs \"path\" or \"data\"");
        const auto t0 = std::chrono::steady_clock::now();
        // A separate refiner file (LiDiff's refine_net.ckpt, converted), by path or bytes.
        const fs::path refiner = modelFileOf(op, "refiner", "refiner_data");
        auto model = refiner.empty() ? ml::LidiffModel::load(file)
                                     : ml::LidiffModel::load(file, refiner);
        model.setDevice(op.value("device", std::string("cpu")));
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const auto& c = model.config();
        m_models.insert_or_assign(name, std::move(model));
        m_stream.result({}, {{"seconds", secs}, {"steps", double(c.sampling.steps)},
                             {"guidance", c.sampling.guidance}},
                        {{"model", name}, {"scale", c.scale.name},
                         {"device", m_models.at(name).device()}});
    }

    ml::LidiffModel& loaded(const Json& op) {
        const std::string name = op.value("model", "");
        const auto it = m_models.find(name);
        if (it == m_models.end()) {
            throw UsageError("no model '" + name + "' loaded (send load_model first)");
        }
        return it->second;
    }

    // What a client needs to name the work before doing it (a pair's recipe, the ground
    // truth's range): the model's scale and sampling defaults.
    void describe(const Json& op) {
        const auto& model = loaded(op);
        const auto& c = model.config();
        m_stream.result({},
                        {{"steps", double(c.sampling.steps)},
                         {"guidance", c.sampling.guidance},
                         {"points", double(c.scale.partialPoints)},
                         {"tile", double(c.scale.tile)},
                         {"min_range", c.scale.minRange},
                         {"max_range", c.scale.maxRange},
                         {"refiner", c.hasRefiner ? 1.0 : 0.0}},
                        {{"model", op.value("model", "")},
                         {"scale", c.scale.name},
                         {"device", model.device()}});
    }

    void complete(const Json& op, const std::atomic<bool>& cancel) {
        auto& model = loaded(op);
        std::vector<std::string> words;
        if (op.contains("arguments")) words = op["arguments"].get<std::vector<std::string>>();
        const Args args(words, completeOptionSpecs(), 0, 0);
        if (auto device = args.value("device")) model.setDevice(*device);
        std::ostringstream notes;
        const auto options = completionOptionsFromArgs(args, model, notes);
        if (!notes.str().empty()) m_err << notes.str();
        const auto scan = decodeXyz(op.value("scan", ""));
        if (!scan) {
            throw InvalidArgument("worker: the scan is not base64 float32 x, y, z (12 bytes a "
                                  "point)");
        }
        JobProgress progress(m_stream, cancel);
        const auto t0 = std::chrono::steady_clock::now();
        const auto done = ml::completeScan(model, *scan, options, &progress);
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        m_stream.result({},
                        {{"partial_points", double(done.partial.size())},
                         {"diffused_points", double(done.diffused.size())},
                         {"refined_points", double(done.refined.size())},
                         {"seconds", secs},
                         {"steps", double(options.steps)},
                         {"guidance", options.guidance},
                         {"seed", double(options.seed)},
                         {"noise_scale", options.noiseScale}},
                        {{"partial", encodeXyz(done.partial)},
                         {"diffused", encodeXyz(done.diffused)},
                         {"refined", encodeXyz(done.refined)},
                         {"device", model.device()}});
    }

    events::Stream& m_stream;
    std::ostream& m_err;
    fs::path m_cacheDir;
    std::map<std::string, ml::LidiffModel> m_models;
    int m_uploads = 0;
};

int runWorkerCommand(const Args& args, Context& ctx) {
    fs::path cache = args.value("cache", "");
    if (cache.empty()) {
        cache = fs::temp_directory_path() / ("lidistill-worker-" + std::to_string(::getpid()));
    }
    const int code = runWorker(std::cin, std::cout, ctx.err, cache);
    std::error_code ec;
    if (!args.has("cache")) fs::remove_all(cache, ec);  // our own uploads only
    return code;
}

}  // namespace

int runWorker(std::istream& in, std::ostream& out, std::ostream& err, const fs::path& cacheDir) {
    fs::create_directories(cacheDir);
    events::Stream stream(out);
    Worker worker(stream, err, cacheDir);
    auto inbox = std::make_shared<Inbox>();
    // The reader may block on stdin forever after a quit: it is not joined.
    std::thread([&in, inbox] { readRequests(in, inbox); }).detach();
    for (;;) {
        Json op;
        {
            std::unique_lock lock(inbox->mutex);
            inbox->ready.wait(lock, [&] { return !inbox->ops.empty(); });
            op = std::move(inbox->ops.front());
            inbox->ops.pop_front();
            const std::string job = op.value("job", "");
            inbox->current = job;
            inbox->cancel = inbox->cancelledJobs.erase(job) > 0 && !job.empty();
        }
        stream.setJob(op.value("job", ""));
        const bool goOn = worker.handle(op, inbox->cancel);
        {
            std::lock_guard lock(inbox->mutex);
            inbox->current.clear();
        }
        if (!goOn || interruptRequested()) break;
    }
    return kOk;
}

Command workerCommand() {
    Command c;
    c.name = "worker";
    c.summary = "Run jobs sent as JSON lines on stdin, keeping models loaded (for the studio)";
    c.synopsis = "";
    c.description =
        "A long-lived process for programs (the studio): requests on stdin, one JSON object a\n"
        "line (load_model by path or uploaded bytes, complete with the scan's points and\n"
        "`complete` options, cancel, ping, quit); the event stream on stdout, every event with\n"
        "its job id; result clouds come back in the messages, so a worker started through a\n"
        "command prefix (ssh gpu-box) needs no shared files. The protocol is in the README.";
    c.options = {{"cache", "DIR", "where uploaded models are kept", false,
                  "a temporary folder, removed at the end"}};
    c.minPositional = 0;
    c.maxPositional = 0;
    c.run = runWorkerCommand;
    return c;
}

}  // namespace lidistill::cli
#endif  // LIDISTILL_HAVE_ML
