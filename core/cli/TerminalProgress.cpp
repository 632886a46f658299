// SPDX-License-Identifier: MIT
#include "core/cli/TerminalProgress.h"

#include "core/base/Events.h"
#include "core/base/Log.h"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <string_view>
#include <unistd.h>

namespace lidistill::cli {
namespace {
std::atomic<bool> g_interrupted{false};

extern "C" void onSigint(int sig) {
    if (g_interrupted.exchange(true)) {
        std::signal(sig, SIG_DFL);
        std::raise(sig);
    }
}

// LIDISTILL_PROGRESS=percent: a line at every whole percent, for programs that follow a run
// (the studio); the default keeps logs short.
bool everyPercent() {
    const char* v = std::getenv("LIDISTILL_PROGRESS");
    return v != nullptr && std::string_view(v) == "percent";
}
}  // namespace

bool interruptRequested() {
    return g_interrupted.load();
}

bool isTerminal(const std::ostream& stream) {
    if (&stream == &std::cerr) return ::isatty(STDERR_FILENO) != 0;
    if (&stream == &std::cout) return ::isatty(STDOUT_FILENO) != 0;
    return false;
}

void TerminalProgress::installSigintHandler() {
    std::signal(SIGINT, onSigint);
    std::signal(SIGTERM, onSigint);
}

TerminalProgress::TerminalProgress(std::ostream& err, std::string task, bool isTerminal)
    : m_err(err),
      m_task(std::move(task)),
      m_tty(isTerminal),
      m_steps(everyPercent() ? 100 : 10),
      m_start(std::chrono::steady_clock::now()) {}

TerminalProgress::~TerminalProgress() {
    finish();
}

bool TerminalProgress::cancelled() const {
    return g_interrupted.load();
}

void TerminalProgress::report(double fraction, std::string_view stage) {
    if (auto* events = events::current()) events->progress(fraction, stage);
    if (log::level() > log::Level::Info) return;  // --quiet: warnings and errors only
    std::lock_guard lock(m_mutex);
    fraction = std::clamp(fraction, 0.0, 1.0);
    const auto now = std::chrono::steady_clock::now();
    if (m_tty) {
        if (m_open && fraction < 1.0 && now - m_lastDraw < std::chrono::milliseconds(100)) return;
        m_lastDraw = now;
        constexpr int kWidth = 30;
        const int filled = static_cast<int>(fraction * kWidth + 0.5);
        const double secs = std::chrono::duration<double>(now - m_start).count();
        m_err << '\r' << m_task << " [" << std::string(filled, '#')
              << std::string(kWidth - filled, '.') << "] " << std::setw(3)
              << static_cast<int>(fraction * 100 + 0.5) << "% " << stage << " (" << std::fixed
              << std::setprecision(1) << secs << " s)\x1b[K" << std::flush;
        m_open = true;
    } else {
        const int step = static_cast<int>(fraction * m_steps);
        if (step == m_lastStep && stage == m_lastStage) return;
        m_lastStep = step;
        m_lastStage = std::string(stage);
        m_err << m_task << ": " << static_cast<int>(fraction * 100 + 0.5) << "% " << stage << '\n';
    }
}

void TerminalProgress::finish() {
    std::lock_guard lock(m_mutex);
    if (m_tty && m_open) {
        m_err << '\n' << std::flush;
        m_open = false;
    }
}

}  // namespace lidistill::cli
