#pragma once
// SPDX-License-Identifier: MIT
//
// One source file a fuzz target: `LIDISTILL_FUZZ_TARGET(name) { ...data, size... }`.
// Built with LIDISTILL_LIBFUZZER (the LIDISTILL_FUZZ build) the body becomes the target's
// LLVMFuzzerTestOneInput, one libFuzzer executable a target; in every other build it registers
// itself with the replay driver (ReplayMain.cpp), so that the ordinary test suite replays the
// seed and regression corpora with any compiler.
//
// A body calls the real reader on the input. A lidistill::Error (IoError, InvalidArgument...)
// is a clean refusal and is caught by the caller of the body; anything else that escapes
// (std::bad_alloc, std::length_error, a JSON library exception) is a bug, as is a sanitizer
// report or a failed FUZZ_CHECK.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string_view>

namespace lidistill::fuzz {

using Body = void (*)(const std::uint8_t* data, std::size_t size);

/// Replay builds: adds a target to the table ReplayMain.cpp runs. @return true.
bool registerTarget(const char* name, Body body);
/// Runs `body` on one input, swallowing lidistill::Error (a refusal is a pass).
void runOne(Body body, const std::uint8_t* data, std::size_t size);

/// Writes the bytes to `name` in this process's scratch folder (created on first use, removed
/// at exit) and returns the path: the readers take files, so the input is handed over as one.
std::filesystem::path writeInput(std::string_view name, const std::uint8_t* data,
                                 std::size_t size);
/// This process's scratch folder.
const std::filesystem::path& scratchDir();

/// Aborts with the message when an invariant of a reader's result does not hold (a reader
/// that returned must have returned something consistent).
[[noreturn]] void checkFailed(const char* expression, const char* file, int line);

}  // namespace lidistill::fuzz

#define FUZZ_CHECK(cond) \
    ((cond) ? (void)0 : ::lidistill::fuzz::checkFailed(#cond, __FILE__, __LINE__))

#define LIDISTILL_FUZZ_BODY_NAME(name) lidistillFuzzBody_##name

#ifdef LIDISTILL_LIBFUZZER
#define LIDISTILL_FUZZ_REGISTER(name)                                                  \
    extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) { \
        ::lidistill::fuzz::runOne(&LIDISTILL_FUZZ_BODY_NAME(name), data, size);         \
        return 0;                                                                       \
    }
#else
#define LIDISTILL_FUZZ_REGISTER(name)             \
    [[maybe_unused]] static const bool lidistillFuzzRegistered_##name = \
        ::lidistill::fuzz::registerTarget(#name, &LIDISTILL_FUZZ_BODY_NAME(name));
#endif

#define LIDISTILL_FUZZ_TARGET(name)                                                        \
    static void LIDISTILL_FUZZ_BODY_NAME(name)(const std::uint8_t* data, std::size_t size); \
    LIDISTILL_FUZZ_REGISTER(name)                                                           \
    static void LIDISTILL_FUZZ_BODY_NAME(name)([[maybe_unused]] const std::uint8_t* data,   \
                                               [[maybe_unused]] std::size_t size)
