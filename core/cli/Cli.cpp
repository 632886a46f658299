// SPDX-License-Identifier: MIT
#include "core/cli/Cli.h"

#include "core/base/Error.h"
#include "core/base/Events.h"
#include "core/base/Log.h"
#include "core/cli/Command.h"
#include "core/cli/TerminalProgress.h"
#ifdef LIDISTILL_HAVE_ML
#include "core/ml/Model.h"
#endif

#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>

namespace lidistill::cli {
namespace {

std::vector<Command> allCommands() {
    std::vector<Command> cmds;
    cmds.push_back(infoCommand());
    cmds.push_back(convertCommand());
    cmds.push_back(buildMapCommand());
    cmds.push_back(gtCommand());
    cmds.push_back(evalCommand());
    cmds.push_back(pairsCommand());
#ifdef LIDISTILL_HAVE_SYNTH
    cmds.push_back(synthCommand());
#endif
#ifdef LIDISTILL_HAVE_ML
    cmds.push_back(modelCommand());
    cmds.push_back(completeCommand());
    cmds.push_back(trainTeacherCommand());
    cmds.push_back(trainRefinerCommand());
    cmds.push_back(trainDpoCommand());
    cmds.push_back(trainDistillCommand());
    cmds.push_back(evalModelsCommand());
    cmds.push_back(workerCommand());
#endif
    return cmds;
}

void printMainHelp(std::ostream& os, const std::vector<Command>& cmds) {
    os << "lidistill: LiDAR scene completion and distillation, headless.\n\n"
          "Usage: lidistill COMMAND [options]   (lidistill COMMAND --help for details)\n\n"
          "Commands:\n";
    for (const auto& c : cmds) {
        os << "  " << c.name << std::string(c.name.size() < 15 ? 15 - c.name.size() : 1, ' ')
           << c.summary << '\n';
    }
    os << "\nGlobal options: --quiet (warnings and errors only), --verbose (debug messages),\n"
          "  --events FILE|- (a JSON line per event for programs: started, progress, metrics,\n"
          "  result, error with a code, ended; '-' puts them on stdout and the summary on stderr).\n"
          "Exit codes: 0 success, 1 failure, 2 usage error.\n";
}

void printCommandHelp(std::ostream& os, const Command& c) {
    os << "Usage: lidistill " << c.name << (c.synopsis.empty() ? "" : " " + c.synopsis)
       << (c.options.empty() ? "" : " [options]") << "\n\n"
       << c.summary << "\n";
    if (!c.description.empty()) os << '\n' << c.description << '\n';
    if (!c.options.empty()) {
        os << "\nOptions:\n";
        for (const auto& o : c.options) {
            std::string lhs = "--" + o.name + (o.isSwitch ? "" : " " + o.valueName);
            os << "  " << lhs << std::string(lhs.size() < 24 ? 24 - lhs.size() : 1, ' ') << o.help;
            if (!o.defaultValue.empty()) os << " (default: " << o.defaultValue << ")";
            os << '\n';
        }
    }
}

}  // namespace

events::ErrorCode errorCodeOf(const std::exception& e) {
    if (dynamic_cast<const UsageError*>(&e)) return events::ErrorCode::Usage;
    if (dynamic_cast<const Cancelled*>(&e)) return events::ErrorCode::Cancelled;
    if (dynamic_cast<const IoError*>(&e)) return events::ErrorCode::Io;
    if (dynamic_cast<const InvalidArgument*>(&e)) return events::ErrorCode::InvalidArgument;
#ifdef LIDISTILL_HAVE_ML
    // "No such device" has its own code: a caller that chose "auto" goes on on the CPU.
    if (dynamic_cast<const ml::DeviceUnavailable*>(&e)) return events::ErrorCode::NoDevice;
#endif
    if (dynamic_cast<const ModelError*>(&e)) return events::ErrorCode::Model;
    return events::ErrorCode::Internal;
}

int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
    const auto cmds = allCommands();
    std::vector<std::string> words(argv + (argc > 0 ? 1 : 0), argv + argc);
    // Global switches may stand anywhere.
    std::vector<std::string> rest;
    log::Level level = log::Level::Info;
    std::optional<std::string> eventsTo;
    for (std::size_t i = 0; i < words.size(); ++i) {
        const auto& w = words[i];
        if (w == "--quiet" || w == "-q") {
            level = log::Level::Warning;
        } else if (w == "--verbose" || w == "-v") {
            level = log::Level::Debug;
        } else if (w == "--events") {
            if (i + 1 == words.size()) {
                err << "lidistill: --events needs FILE (or - for stdout)\n";
                return kUsage;
            }
            eventsTo = words[++i];
        } else {
            rest.push_back(w);
        }
    }
    if (rest.empty() || rest[0] == "--help" || rest[0] == "-h" || rest[0] == "help") {
        printMainHelp(rest.empty() ? err : out, cmds);
        return rest.empty() ? kUsage : kOk;
    }
    if (rest[0] == "--version") {
        out << "lidistill 0.1.0\n";
        return kOk;
    }
    const Command* cmd = nullptr;
    for (const auto& c : cmds) {
        if (c.name == rest[0]) cmd = &c;
    }
    if (!cmd) {
        err << "lidistill: unknown command '" << rest[0] << "'\n\n";
        printMainHelp(err, cmds);
        return kUsage;
    }
    std::vector<std::string> cmdArgs(rest.begin() + 1, rest.end());
    for (const auto& a : cmdArgs) {
        if (a == "--help" || a == "-h") {
            printCommandHelp(out, *cmd);
            return kOk;
        }
    }

    // --events: the job's machine-readable stream (core/base/Events.h). "-": stdout carries
    // only events and the human summary moves to stderr.
    std::ofstream eventsFile;
    std::ostream* humanOut = &out;
    std::ostream* eventsOut = nullptr;
    if (eventsTo) {
        if (*eventsTo == "-") {
            eventsOut = &out;
            humanOut = &err;
        } else {
            eventsFile.open(*eventsTo, std::ios::app);
            if (!eventsFile) {
                err << "lidistill " << cmd->name << ": " << *eventsTo
                    << ": cannot open the events file for appending\n";
                return kFailure;
            }
            eventsOut = &eventsFile;
        }
    }
    std::optional<events::Stream> stream;
    if (eventsOut) stream.emplace(*eventsOut);
    events::CurrentGuard current(stream ? &*stream : nullptr);
    if (stream) stream->started(cmd->name, cmdArgs);
    auto end = [&](int code, std::string_view status) {
        if (stream) stream->ended(code, status);
        return code;
    };
    auto fail = [&](events::ErrorCode code, const std::string& message, const std::string& file) {
        if (stream) stream->error(code, message, file);
    };

    log::setLevel(level);
    std::mutex errMutex;
    log::setSink([&](log::Level lvl, std::string_view msg) {
        std::lock_guard lock(errMutex);
        err << "lidistill " << cmd->name << ": "
            << (lvl >= log::Level::Warning ? log::levelName(lvl) : "")
            << (lvl >= log::Level::Warning ? ": " : "") << msg << '\n';
    });
    struct RestoreSink {
        ~RestoreSink() { log::setSink({}); }
    } restore;

    Context ctx{*humanOut, err, isTerminal(err), {}};
    ctx.words.push_back(cmd->name);
    ctx.words.insert(ctx.words.end(), cmdArgs.begin(), cmdArgs.end());
    try {
        Args args(cmdArgs, cmd->options, cmd->minPositional, cmd->maxPositional);
        const int code = cmd->run(args, ctx);
        return end(code, code == kOk ? "ok" : "failed");
    } catch (const UsageError& e) {
        fail(events::ErrorCode::Usage, e.what(), {});
        err << "lidistill " << cmd->name << ": " << e.what() << "\n\n";
        printCommandHelp(err, *cmd);
        return end(kUsage, "usage");
    } catch (const Cancelled&) {
        fail(events::ErrorCode::Cancelled, "cancelled", {});
        err << "lidistill " << cmd->name << ": cancelled\n";
        return end(kFailure, "cancelled");
    } catch (const std::exception& e) {
        const auto* io = dynamic_cast<const IoError*>(&e);
        fail(errorCodeOf(e), e.what(), io ? io->file().string() : std::string());
        err << "lidistill " << cmd->name << ": error: " << e.what() << '\n';
        return end(kFailure, "failed");
    }
}

int run(int argc, char** argv) {
    TerminalProgress::installSigintHandler();
    std::ios::sync_with_stdio(true);
    return run(argc, argv, std::cout, std::cerr);
}

}  // namespace lidistill::cli
