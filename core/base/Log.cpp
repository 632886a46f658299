// SPDX-License-Identifier: MIT
#include "core/base/Log.h"

#include <atomic>
#include <iostream>
#include <mutex>

namespace lidistill::log {
namespace {
std::mutex g_mutex;
Sink g_sink;
std::atomic<Level> g_level{Level::Info};
}  // namespace

const char* levelName(Level level) {
    switch (level) {
        case Level::Debug:
            return "debug";
        case Level::Info:
            return "info";
        case Level::Warning:
            return "warning";
        case Level::Error:
            return "error";
    }
    return "?";
}

void setSink(Sink sink) {
    std::lock_guard lock(g_mutex);
    g_sink = std::move(sink);
}

void setLevel(Level level) {
    g_level = level;
}
Level level() {
    return g_level;
}

void write(Level lvl, std::string_view message) {
    if (lvl < g_level) {
        return;
    }
    std::lock_guard lock(g_mutex);
    if (g_sink) {
        g_sink(lvl, message);
    } else {
        std::cerr << '[' << levelName(lvl) << "] " << message << '\n';
    }
}

}  // namespace lidistill::log
