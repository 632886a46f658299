#pragma once
// SPDX-License-Identifier: MIT
//
// The machine-readable side of a `lidistill` job: a JSON-lines event stream (one object a line,
// "event" names its kind), written by the CLI with `--events FILE` (or `--events -`: stdout
// carries only events, the human summary goes to stderr) and read by the studio, so that no
// program ever matches English text or regexes over another's output. Protocol version 1:
//
//   {"event":"started","version":1,"command":"complete","arguments":[...],"pid":N}
//   {"event":"progress","fraction":0.45,"stage":"denoising"}       at most one per percent
//   {"event":"metrics","record":{"step":12,"loss":0.31,...}}       train-*: each metrics.jsonl line
//   {"event":"result","outputs":["out.ply"],"step":N,...}          what the job made
//   {"event":"error","code":"io","message":"...","file":"..."}     file: only for code "io"
//   {"event":"ended","exit":0,"status":"ok"}                       always the last line
//
// Error codes (stable names): usage, io, invalid_argument, model, no_device (the device asked
// for does not exist here), cancelled, internal.
// Ended status: ok, failed, usage, cancelled. A cancelled training job's last result event
// holds the step it stopped at ("stopped":true). No Qt, no torch.

#include <iosfwd>
#include <nlohmann/json_fwd.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lidistill::events {

inline constexpr int kVersion = 1;

enum class ErrorCode { Usage, Io, InvalidArgument, Model, NoDevice, Cancelled, Internal };
/// "usage", "io", ... (the names on the wire).
std::string_view codeName(ErrorCode code);

/// Writes events to a stream; every line is flushed at once (readers follow it live).
/// Thread-safe: progress may come from worker threads.
class Stream {
public:
    explicit Stream(std::ostream& out);

    void started(std::string_view command, const std::vector<std::string>& arguments);
    /// Dropped unless the whole percent or the stage changed since the last one.
    void progress(double fraction, std::string_view stage);
    /// `recordJson`: one JSON object (a metrics.jsonl line), embedded as it is.
    void metrics(std::string_view recordJson);
    /// Files made, plus named numbers (step, points, seconds, ...) and strings (model, ...).
    void result(const std::vector<std::string>& outputs,
                const std::vector<std::pair<std::string, double>>& numbers = {},
                const std::vector<std::pair<std::string, std::string>>& strings = {});
    void error(ErrorCode code, std::string_view message, std::string_view file = {});
    void ended(int exitCode, std::string_view status);
    /// Every later event carries {"job": id} (the worker's jobs); empty: none.
    void setJob(std::string job);

private:
    void emit(const char* kind, const nlohmann::ordered_json& fields);  // under m_mutex

    std::ostream& m_out;
    std::mutex m_mutex;
    int m_lastPercent = -1;
    std::string m_lastStage;
    std::string m_job;
};

/// The stream of this process's command (set by the CLI for --events), or null.
Stream* current();
/// Sets it for the lifetime of the guard (nesting restores the outer one).
class CurrentGuard {
public:
    explicit CurrentGuard(Stream* stream);
    ~CurrentGuard();
    CurrentGuard(const CurrentGuard&) = delete;
    CurrentGuard& operator=(const CurrentGuard&) = delete;

private:
    Stream* m_previous;
};

/// One event as a reader sees it; fields an event kind does not have stay empty.
struct Event {
    std::string type;  ///< started, progress, metrics, result, error, ended
    std::string job;   ///< the worker's job id, if any
    std::string command;
    double fraction = 0;
    std::string stage;
    std::string record;  ///< metrics: the record's JSON text
    std::vector<std::string> outputs;
    std::vector<std::pair<std::string, double>> numbers;
    std::vector<std::pair<std::string, std::string>> strings;
    std::string code;  ///< error: a codeName()
    std::string message;
    std::string file;
    int exitCode = 0;
    std::string status;  ///< ended
    /// numbers / strings by name.
    std::optional<double> number(std::string_view name) const;
    std::optional<std::string> text(std::string_view name) const;
};

/// Parses one line; nothing for a line that is not an event (blank, cut, or not JSON).
std::optional<Event> parse(std::string_view line);

}  // namespace lidistill::events
