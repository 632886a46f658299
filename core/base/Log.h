#pragma once
// SPDX-License-Identifier: MIT

#include <functional>
#include <sstream>
#include <string>
#include <string_view>

namespace lidistill::log {

enum class Level { Debug = 0, Info = 1, Warning = 2, Error = 3 };

/// Receives every message at or above the current level. Sinks are called from whatever
/// thread logs (workers included), so a GUI sink must forward through a queued connection.
using Sink = std::function<void(Level, std::string_view)>;

/// Replaces the sink (the default writes "[level] message" to stderr). Thread-safe.
/// Passing an empty function restores the default.
void setSink(Sink sink);
/// Messages below this level are dropped before formatting reaches the sink. Thread-safe.
void setLevel(Level level);
Level level();
/// Sends one message. Thread-safe; sinks are serialised by a mutex.
void write(Level level, std::string_view message);

const char* levelName(Level level);

/// Formats its arguments with operator<< and logs them, e.g. log::warn(path, ": ", n, " NaN").
template <typename... Args>
void message(Level lvl, const Args&... args) {
    if (lvl < level()) {
        return;
    }
    std::ostringstream os;
    (os << ... << args);
    write(lvl, os.str());
}
template <typename... Args>
void debug(const Args&... args) {
    message(Level::Debug, args...);
}
template <typename... Args>
void info(const Args&... args) {
    message(Level::Info, args...);
}
template <typename... Args>
void warn(const Args&... args) {
    message(Level::Warning, args...);
}
template <typename... Args>
void error(const Args&... args) {
    message(Level::Error, args...);
}

}  // namespace lidistill::log
