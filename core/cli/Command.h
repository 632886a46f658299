#pragma once
// SPDX-License-Identifier: MIT

#include "core/base/Events.h"
#include "core/cli/Args.h"

#include <exception>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

namespace lidistill::cli {

/// Where a command writes: results to `out`, progress and diagnostics to `err`.
struct Context {
    std::ostream& out;
    std::ostream& err;
    bool errIsTerminal = false;  ///< draw a redrawn progress bar instead of plain lines
    /// The command and its words as typed (global switches removed): what a command that
    /// starts copies of itself (train-* --nproc) passes on.
    std::vector<std::string> words;
};

/// One `lidistill` sub-command. `run` returns an ExitCode; it may throw lidistill::Error
/// (reported as exit 1) or UsageError (exit 2).
struct Command {
    std::string name;
    std::string summary;      ///< one line, for `lidistill --help`
    std::string synopsis;     ///< positional arguments, e.g. "SEQUENCE_DIR FRAME"
    std::string description;  ///< paragraphs for `lidistill NAME --help`
    std::vector<OptionSpec> options;
    std::size_t minPositional = 0;
    std::size_t maxPositional = 0;
    std::function<int(const Args&, Context&)> run;
};

/// The event code of an exception (core/base/Events.h), for --events and the worker.
events::ErrorCode errorCodeOf(const std::exception& e);

// Each command lives in its own Cmd*.cpp file.
Command infoCommand();
Command convertCommand();
Command buildMapCommand();
Command gtCommand();
Command evalCommand();
Command pairsCommand();  // core/cli/CmdPairs.cpp (make needs the ML library)
#ifdef LIDISTILL_HAVE_SYNTH
Command synthCommand();  // core/cli/CmdSynth.cpp
#endif
#ifdef LIDISTILL_HAVE_ML
Command modelCommand();     // core/cli/CmdModel.cpp
Command completeCommand();  // core/cli/CmdComplete.cpp
Command trainTeacherCommand();  // core/cli/CmdTrain.cpp
Command trainRefinerCommand();
Command trainDpoCommand();
Command trainDistillCommand();
Command evalModelsCommand();  // core/cli/CmdEvalModels.cpp
Command workerCommand();      // core/cli/CmdWorker.cpp
#endif

}  // namespace lidistill::cli
