// SPDX-License-Identifier: MIT
#include "tests/fuzz/FuzzTarget.h"

#include "core/base/Error.h"
#include "core/base/Log.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <system_error>
#include <unistd.h>

namespace lidistill::fuzz {
namespace fs = std::filesystem;

namespace {

struct Scratch {
    fs::path dir;
    Scratch() {
        // Per process: libFuzzer's -fork and -jobs run several at once.
        dir = fs::temp_directory_path() / ("lidistill-fuzz-" + std::to_string(::getpid()));
        fs::create_directories(dir);
        // Dropped-NaN warnings for every input would cost more than the parsing.
        log::setLevel(log::Level::Error);
    }
    ~Scratch() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

Scratch& scratch() {
    static Scratch s;
    return s;
}

}  // namespace

const fs::path& scratchDir() {
    return scratch().dir;
}

fs::path writeInput(std::string_view name, const std::uint8_t* data, std::size_t size) {
    const fs::path file = scratch().dir / std::string(name);
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    out.close();
    if (!out) {
        std::fprintf(stderr, "fuzz: cannot write the input to %s\n", file.c_str());
        std::abort();
    }
    return file;
}

void runOne(Body body, const std::uint8_t* data, std::size_t size) {
    try {
        body(data, size);
    } catch (const Error&) {
        // A clear refusal is what bad input should get.
    }
}

void checkFailed(const char* expression, const char* file, int line) {
    std::fprintf(stderr, "fuzz: invariant failed at %s:%d: %s\n", file, line, expression);
    std::abort();
}

}  // namespace lidistill::fuzz
