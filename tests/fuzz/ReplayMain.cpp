// SPDX-License-Identifier: MIT
// The replay driver: runs fuzz target bodies on saved inputs without libFuzzer, so that the
// ordinary test suite (any compiler, any build) replays the seed and regression corpora.
//   fuzz_replay TARGET FILE_OR_FOLDER...    every file (folders recursively), sorted
//   fuzz_replay --list                      the registered targets
//   fuzz_replay --make-seeds DIR            writes the hand-made seed corpus (MakeSeeds.cpp)
// Exit 0 when every input was read or cleanly refused; a crash, a sanitizer report or an
// escaped exception other than lidistill::Error fails the test.
#include "tests/fuzz/FuzzTarget.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

namespace lidistill::fuzz {

int makeSeeds(const std::filesystem::path& root);  // MakeSeeds.cpp

namespace {
std::map<std::string, Body>& registry() {
    static std::map<std::string, Body> targets;
    return targets;
}
}  // namespace

bool registerTarget(const char* name, Body body) {
    registry()[name] = body;
    return true;
}

}  // namespace lidistill::fuzz

int main(int argc, char** argv) {
    namespace fs = std::filesystem;
    using lidistill::fuzz::registry;
    if (argc == 2 && std::string(argv[1]) == "--list") {
        for (const auto& [name, body] : registry()) std::printf("%s\n", name.c_str());
        return 0;
    }
    if (argc == 3 && std::string(argv[1]) == "--make-seeds") {
        return lidistill::fuzz::makeSeeds(argv[2]);
    }
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s TARGET FILE_OR_FOLDER... | --list\n", argv[0]);
        return 2;
    }
    const auto it = registry().find(argv[1]);
    if (it == registry().end()) {
        std::fprintf(stderr, "fuzz_replay: no target '%s' (--list shows them)\n", argv[1]);
        return 2;
    }
    std::vector<fs::path> inputs;
    for (int i = 2; i < argc; ++i) {
        const fs::path p = argv[i];
        if (fs::is_directory(p)) {
            for (const auto& e : fs::recursive_directory_iterator(p)) {
                if (e.is_regular_file() && e.path().filename().string().front() != '.') {
                    inputs.push_back(e.path());
                }
            }
        } else if (fs::is_regular_file(p)) {
            inputs.push_back(p);
        } else {
            std::fprintf(stderr, "fuzz_replay: %s does not exist\n", p.c_str());
            return 2;
        }
    }
    std::sort(inputs.begin(), inputs.end());
    if (inputs.empty()) {
        // A corpus that went missing must not pass as "replayed clean".
        std::fprintf(stderr, "fuzz_replay: no inputs under the given paths\n");
        return 2;
    }
    for (const auto& file : inputs) {
        std::ifstream in(file, std::ios::binary);
        const std::vector<char> bytes{std::istreambuf_iterator<char>(in),
                                      std::istreambuf_iterator<char>()};
        std::fprintf(stderr, "replay %s (%zu bytes)\n", file.c_str(), bytes.size());
        lidistill::fuzz::runOne(it->second, reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                bytes.size());
    }
    std::printf("%s: %zu inputs replayed clean\n", argv[1], inputs.size());
    return 0;
}
