#pragma once
// SPDX-License-Identifier: MIT

#include "core/base/Progress.h"

#include <chrono>
#include <iosfwd>
#include <mutex>
#include <string>

namespace lidistill::cli {

/// Progress for the command line: a redrawn bar when `err` is a terminal, otherwise plain
/// lines ("build-map: 40% stage") at most every 10 percent or each new stage, so logs stay
/// short; every percent with LIDISTILL_PROGRESS=percent in the environment (for a program that
/// follows the run, such as the studio). Thread-safe. Cancellation comes from SIGINT (Ctrl+C) or
/// SIGTERM once installSigintHandler() ran.
class TerminalProgress final : public ProgressSink {
public:
    TerminalProgress(std::ostream& err, std::string task, bool isTerminal);
    ~TerminalProgress() override;
    void report(double fraction, std::string_view stage) override;
    bool cancelled() const override;
    /// Ends the bar line (called by the destructor too).
    void finish();

    /// First SIGINT (Ctrl+C) or SIGTERM requests cancellation (the work stops at its next
    /// checkpoint, exit code as for Cancelled); a second one ends the process as usual.
    static void installSigintHandler();

private:
    std::ostream& m_err;
    std::string m_task;
    bool m_tty;
    bool m_open = false;
    int m_steps;  // lines per run when not on a terminal: 10 or 100
    int m_lastStep = -1;
    std::string m_lastStage;
    std::chrono::steady_clock::time_point m_start, m_lastDraw;
    std::mutex m_mutex;
};

/// Whether SIGINT / SIGTERM asked this process to stop (after installSigintHandler()).
bool interruptRequested();

/// True if the stream is std::cerr / std::cout and that file descriptor is a terminal.
bool isTerminal(const std::ostream& stream);

}  // namespace lidistill::cli
