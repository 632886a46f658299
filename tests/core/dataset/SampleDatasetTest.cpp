// SPDX-License-Identifier: MIT
// The bundled sample in datasets/: readable through Sequence, identical to the shared
// original, and matching its MANIFEST.sha256.
#include "core/base/Strings.h"
#include "core/dataset/Sequence.h"
#include "tests/core/io/IoTestUtil.h"
#include "tests/support/TestData.h"

#include <array>
#include <cstdint>
#include <cstdio>
#include <gtest/gtest.h>
#include <set>
#include <sstream>

namespace lidistill::test {
namespace {
namespace fs = std::filesystem;

/// Plain SHA-256 (FIPS 180-4), so the manifest is checked without any library or tool.
std::string sha256Hex(const std::string& data) {
    static constexpr std::array<std::uint32_t, 64> k = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2};
    std::array<std::uint32_t, 8> h = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    auto rotr = [](std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); };
    std::string msg = data;
    const std::uint64_t bits = static_cast<std::uint64_t>(data.size()) * 8;
    msg.push_back(static_cast<char>(0x80));
    while (msg.size() % 64 != 56) msg.push_back('\0');
    for (int i = 7; i >= 0; --i) msg.push_back(static_cast<char>((bits >> (8 * i)) & 0xFF));
    for (std::size_t chunk = 0; chunk < msg.size(); chunk += 64) {
        std::array<std::uint32_t, 64> w{};
        for (int i = 0; i < 16; ++i) {
            const auto* p = reinterpret_cast<const unsigned char*>(msg.data() + chunk + 4 * i);
            w[i] = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
                   (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
        }
        for (int i = 16; i < 64; ++i) {
            const std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
            const std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        auto v = h;
        for (int i = 0; i < 64; ++i) {
            const std::uint32_t s1 = rotr(v[4], 6) ^ rotr(v[4], 11) ^ rotr(v[4], 25);
            const std::uint32_t ch = (v[4] & v[5]) ^ (~v[4] & v[6]);
            const std::uint32_t t1 = v[7] + s1 + ch + k[i] + w[i];
            const std::uint32_t s0 = rotr(v[0], 2) ^ rotr(v[0], 13) ^ rotr(v[0], 22);
            const std::uint32_t maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
            const std::uint32_t t2 = s0 + maj;
            v = {t1 + t2, v[0], v[1], v[2], v[3] + t1, v[4], v[5], v[6]};
        }
        for (int i = 0; i < 8; ++i) h[i] += v[i];
    }
    std::string hex;
    char buf[9];
    for (std::uint32_t x : h) {
        std::snprintf(buf, sizeof(buf), "%08x", x);
        hex += buf;
    }
    return hex;
}

/// datasets/ of this checkout. Falls back on this file's location because ctest currently
/// passes only the first variable of lidistill_add_test's ENV list (LIDISTILL_SOURCE_DIR is lost).
fs::path datasetsDir() {
    const fs::path fromEnv = sourceDir() / "datasets";
    if (fs::exists(fromEnv / "MANIFEST.sha256")) return fromEnv;
    return fs::path(__FILE__).parent_path().parent_path().parent_path().parent_path() / "datasets";
}
fs::path sampleSeq() {
    return datasetsDir() / "semantickitti-mini" / "sequences" / "00";
}

std::string firstLines(const fs::path& file, int n) {
    std::istringstream in(slurp(file));
    std::string out, line;
    for (int i = 0; i < n && std::getline(in, line); ++i) out += line + "\n";
    return out;
}

TEST(SampleDataset, Sha256KnownVectors) {
    EXPECT_EQ(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(SampleDataset, OpensThroughSequence) {
    const Sequence seq = Sequence::open(sampleSeq());
    ASSERT_EQ(seq.size(), 5u);
    EXPECT_TRUE(seq.hasLabels());
    EXPECT_TRUE(seq.hasPoses());
    EXPECT_TRUE(seq.hasCalib());
    EXPECT_EQ(seq.frameName(4), "000004");
    EXPECT_NEAR(*seq.time(4), 0.41, 0.02);  // about 10 Hz
    for (std::size_t i = 0; i < seq.size(); ++i) {
        const PointCloud c = seq.loadScan(i);
        EXPECT_GT(c.size(), 120000u) << i;
        EXPECT_EQ(c.size(), c.label.size());
        EXPECT_EQ(c.size(), fs::file_size(seq.scanFile(i)) / 16);
    }
    EXPECT_TRUE(seq.pose(0).isApprox(Eigen::Matrix4d::Identity(), 1e-6));
    // About 0.7 m a frame forward (LiDAR +x).
    EXPECT_NEAR(seq.pose(4)(0, 3), 2.8, 0.4);
}

TEST(SampleDataset, MatchesSharedOriginal) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    const fs::path shared = semanticKittiSeq00();
    for (int i = 0; i < 5; ++i) {
        const std::string n = "00000" + std::to_string(i);
        EXPECT_TRUE(slurp(sampleSeq() / "velodyne" / (n + ".bin")) ==
                    slurp(shared / "velodyne" / (n + ".bin")))
            << n;
        EXPECT_TRUE(slurp(sampleSeq() / "labels" / (n + ".label")) ==
                    slurp(shared / "labels" / (n + ".label")))
            << n;
    }
    EXPECT_EQ(slurp(sampleSeq() / "calib.txt"), slurp(shared / "calib.txt"));
    EXPECT_EQ(slurp(sampleSeq() / "poses.txt"), firstLines(shared / "poses.txt", 5));
    EXPECT_EQ(slurp(sampleSeq() / "times.txt"), firstLines(shared / "times.txt", 5));
    EXPECT_EQ(listNames(sampleSeq()), (std::vector<std::string>{"calib.txt", "labels", "poses.txt",
                                                                "times.txt", "velodyne"}));

    const Sequence sample = Sequence::open(sampleSeq());
    const Sequence full = Sequence::open(shared);
    for (std::size_t i = 0; i < sample.size(); ++i) {
        EXPECT_EQ(sample.pose(i), full.pose(i)) << i;
    }
}

TEST(SampleDataset, ManifestHashes) {
    const fs::path manifest = datasetsDir() / "MANIFEST.sha256";
    ASSERT_TRUE(fs::exists(manifest));
    std::istringstream in(slurp(manifest));
    std::string line;
    std::set<std::string> listed;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        // sha256sum text format: 64 hex digits, two spaces, path relative to datasets/.
        ASSERT_GT(line.size(), 66u) << line;
        ASSERT_EQ(line.substr(64, 2), "  ") << line;
        const std::string hash = line.substr(0, 64);
        const std::string path = line.substr(66);
        ASSERT_TRUE(fs::is_regular_file(datasetsDir() / path)) << path;
        EXPECT_EQ(sha256Hex(slurp(datasetsDir() / path)), hash) << path;
        listed.insert(path);
    }
    EXPECT_GE(listed.size(), 13u);  // the 13 files of the sequence sample at least
    // Every file of the SemanticKITTI sample is covered, so none can change unnoticed. Other
    // samples in datasets/ are checked above once their owners list them.
    const fs::path sample = datasetsDir() / "semantickitti-mini";
    std::size_t files = 0;
    for (const auto& e : fs::recursive_directory_iterator(sample)) {
        if (!e.is_regular_file()) continue;
        ++files;
        const std::string rel = fs::relative(e.path(), datasetsDir()).generic_string();
        EXPECT_TRUE(listed.count(rel)) << rel << " is not in MANIFEST.sha256";
    }
    EXPECT_EQ(files, 13u);
}

}  // namespace
}  // namespace lidistill::test
