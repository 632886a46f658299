// SPDX-License-Identifier: MIT
// The torch-free safetensors header reader (core/ml/io/SafeTensorsHeader.h), which runs before
// any tensor is allocated: here, not in tests/ml, so that every build (no libtorch needed)
// checks what the fuzz target exercises.
#include "core/base/Error.h"
#include "core/ml/io/SafeTensorsHeader.h"

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <string>
#include <unistd.h>

namespace lidistill::ml {
namespace {
namespace fs = std::filesystem;

/// Refusal of `json` over `dataSize` bytes, whose message must hold `fault`.
void expectRefused(const std::string& json, std::uint64_t dataSize, const std::string& fault) {
    try {
        parseSafeTensorsHeader("m.safetensors", json, dataSize);
        ADD_FAILURE() << json << " was accepted";
    } catch (const IoError& e) {
        EXPECT_EQ(e.file(), fs::path("m.safetensors"));
        EXPECT_NE(std::string(e.what()).find(fault), std::string::npos) << e.what();
    }
}

TEST(SafeTensorsHeader, EntriesComeInDataOrderWithTheirSizes) {
    const auto h = parseSafeTensorsHeader(
        "m.safetensors",
        R"({"b":{"dtype":"I64","shape":[],"data_offsets":[24,32]},)"
        R"("__metadata__":{"lidistill.config":"{}"},)"
        R"("e":{"dtype":"F16","shape":[0,5],"data_offsets":[24,24]},)"
        R"("a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}})",
        40);
    ASSERT_EQ(h.entries.size(), 3u);
    EXPECT_EQ(h.entries[0].name, "a");
    EXPECT_EQ(h.entries[0].elementSize, 4u);
    EXPECT_EQ(h.entries[0].shape, (std::vector<std::int64_t>{2, 3}));
    EXPECT_EQ(h.entries[1].name, "e");  // empty, at the same offset as b: shares no bytes
    EXPECT_EQ(h.entries[2].name, "b");
    EXPECT_EQ(h.entries[2].elementSize, 8u);
    EXPECT_TRUE(h.entries[2].shape.empty());
    EXPECT_EQ(h.metadata.at("lidistill.config"), "{}");
    EXPECT_EQ(h.dataSize, 40u);
    EXPECT_EQ(safeTensorsElementSize("BF16"), 2u);
    EXPECT_EQ(safeTensorsElementSize("F8_E4M3"), 0u);
}

TEST(SafeTensorsHeader, DamagedHeadersAreRefusedNamingTheTensor) {
    expectRefused(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                  R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                  16, "tensor 'b' overlaps tensor 'a'");
    expectRefused(R"({"a":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1],)"
                  R"("data_offsets":[0,4]}})",
                  4, "tensor 'a': shape of rank 17");
    expectRefused(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}})", 16,
                  "tensor 'a': holds 16 bytes, dtype F32 and shape [3] need 12");
    expectRefused(R"({"a":{"dtype":"F32","shape":[-3],"data_offsets":[0,0]}})", 0,
                  "tensor 'a': bad shape");
    expectRefused(R"({"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}})", 1,
                  "tensor 'a': unsupported dtype Q4");
    expectRefused(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", 8,
                  "tensor 'a': data_offsets [8, 4] outside");
    expectRefused(R"({"__metadata__":{"k":7}})", 0, "metadata value 'k' is not a string");
    expectRefused(R"({"__metadata__":{"k":")" + std::string((1 << 20) + 1, 'x') + R"("}})", 0,
                  "metadata value 'k' is longer than 1048576 bytes");
    expectRefused("[1]", 0, "not a JSON object");
}

TEST(SafeTensorsHeader, TensorsOverTheMemoryBudgetAreRefused) {
    ::setenv("LIDISTILL_MEMORY_BUDGET", "1K", 1);
    expectRefused(R"({"a":{"dtype":"F32","shape":[512],"data_offsets":[0,2048]}})", 2048,
                  "1 tensors would need 2.0 KiB, more than the memory budget of 1.0 KiB");
    ::unsetenv("LIDISTILL_MEMORY_BUDGET");
}

TEST(SafeTensorsHeader, TheFileIsReadHeaderFirst) {
    const fs::path f = fs::temp_directory_path() /
                       ("lidistill_st_header_" + std::to_string(::getpid()) + ".safetensors");
    const std::string json = R"({"a":{"dtype":"U8","shape":[3],"data_offsets":[0,3]}})";
    std::string bytes(8, '\0');
    const std::uint64_t n = json.size();
    std::memcpy(bytes.data(), &n, 8);
    std::ofstream(f, std::ios::binary) << bytes << json << "xyz";
    const auto h = readSafeTensorsHeader(f);
    EXPECT_EQ(h.dataOffset, 8 + json.size());
    EXPECT_EQ(h.dataSize, 3u);
    // A header length past the file (a 20 GB something picked by mistake): refused at once.
    std::uint64_t lie = 1ull << 40;
    std::memcpy(bytes.data(), &lie, 8);
    std::ofstream(f, std::ios::binary | std::ios::trunc) << bytes << json << "xyz";
    try {
        readSafeTensorsHeader(f);
        FAIL();
    } catch (const IoError& e) {
        EXPECT_EQ(e.file(), f);
        EXPECT_NE(std::string(e.what()).find("header length 1099511627776 does not fit"),
                  std::string::npos)
            << e.what();
    }
    fs::remove(f);
}

}  // namespace
}  // namespace lidistill::ml
