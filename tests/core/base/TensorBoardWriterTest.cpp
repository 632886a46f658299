// SPDX-License-Identifier: MIT
#include "core/base/Error.h"
#include "core/base/TensorBoardWriter.h"
#include "tests/support/TfEventsReader.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <limits>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using namespace lidistill;
using namespace lidistill::test::tfevents;

namespace {
class TensorBoardWriterTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir = fs::temp_directory_path() / ("lidistill_tb_test_" + std::to_string(::getpid())) /
              ::testing::UnitTest::GetInstance()->current_test_info()->name();
        fs::remove_all(dir);
    }
    void TearDown() override { fs::remove_all(dir.parent_path()); }
    fs::path dir;
};

}  // namespace

TEST(Crc32c, CheckValueMatchesForBothImplementations) {
    const std::string check = "123456789";
    EXPECT_EQ(crc32c(check.data(), check.size()), 0xE3069283u);
    EXPECT_EQ(bitwiseCrc32c(check), 0xE3069283u);
    EXPECT_EQ(crc32c("", 0), 0u);
    std::mt19937 rng(7);
    for (std::size_t n : {1u, 3u, 8u, 255u, 1000u}) {
        std::string s(n, '\0');
        for (char& c : s) c = static_cast<char>(rng());
        EXPECT_EQ(crc32c(s.data(), s.size()), bitwiseCrc32c(s)) << "length " << n;
    }
}

TEST_F(TensorBoardWriterTest, FileNameFollowsTensorBoardConvention) {
    TensorBoardWriter w(dir);
    EXPECT_EQ(w.file().parent_path(), dir);
    const std::string name = w.file().filename().string();
    EXPECT_EQ(name.rfind("events.out.tfevents.", 0), 0u) << name;
    EXPECT_NE(name.find("." + std::to_string(::getpid())), std::string::npos) << name;
    EXPECT_TRUE(fs::is_regular_file(w.file()));
}

TEST_F(TensorBoardWriterTest, DecodesToVersionRecordThenScalars) {
    const double before = TensorBoardWriter::now();
    TensorBoardWriter w(dir);
    w.write(1, {{"loss/train", 1.0 / 3.0}, {"lr", 1e-4}}, 1700000000.123456);
    w.write(2, {{"loss/train", 0.25}});
    w.write(0, {{"metric/chamfer", -7.5}}, 1.5);
    w.write(1LL << 40, {{"big", 123456.789}}, 2.0);
    w.write(-3, {{"neg", 42.0}}, 3.0);
    const double after = TensorBoardWriter::now();

    // Read while the writer is still open: every record must already be flushed.
    const std::string bytes = slurp(w.file());
    const std::vector<std::string> records = readRecords(bytes);  // verifies every CRC
    ASSERT_EQ(records.size(), 6u);
    std::vector<Event> ev;
    for (const auto& r : records) ev.push_back(decodeEvent(r));

    ASSERT_TRUE(ev[0].fileVersion.has_value());
    EXPECT_EQ(*ev[0].fileVersion, "brain.Event:2");
    EXPECT_TRUE(ev[0].values.empty());
    EXPECT_GE(ev[0].wallTime, before - 1);
    EXPECT_LE(ev[0].wallTime, after + 1);
    for (std::size_t i = 1; i < ev.size(); ++i) EXPECT_FALSE(ev[i].fileVersion) << i;

    EXPECT_EQ(ev[1].step, 1);
    EXPECT_EQ(ev[1].wallTime, 1700000000.123456);
    ASSERT_EQ(ev[1].values.size(), 2u);
    EXPECT_EQ(ev[1].values[0].tag, "loss/train");
    EXPECT_EQ(ev[1].values[0].value, static_cast<float>(1.0 / 3.0));
    EXPECT_EQ(ev[1].values[1].tag, "lr");
    EXPECT_EQ(ev[1].values[1].value, static_cast<float>(1e-4));

    EXPECT_EQ(ev[2].step, 2);
    EXPECT_GE(ev[2].wallTime, before - 1);
    EXPECT_LE(ev[2].wallTime, after + 1);
    ASSERT_EQ(ev[2].values.size(), 1u);
    EXPECT_EQ(ev[2].values[0].value, 0.25f);

    EXPECT_EQ(ev[3].step, 0);
    EXPECT_EQ(ev[3].wallTime, 1.5);
    ASSERT_EQ(ev[3].values.size(), 1u);
    EXPECT_EQ(ev[3].values[0].tag, "metric/chamfer");
    EXPECT_EQ(ev[3].values[0].value, -7.5f);

    EXPECT_EQ(ev[4].step, 1LL << 40);
    ASSERT_EQ(ev[4].values.size(), 1u);
    EXPECT_EQ(ev[4].values[0].value, static_cast<float>(123456.789));

    EXPECT_EQ(ev[5].step, -3);
    ASSERT_EQ(ev[5].values.size(), 1u);
    EXPECT_EQ(ev[5].values[0].value, 42.0f);
}

TEST_F(TensorBoardWriterTest, EveryRecordCarriesValidCrcs) {
    TensorBoardWriter w(dir);
    for (int s = 1; s <= 20; ++s) w.write(s, {{"x", s * 0.1}, {"y", -s * 1e6}});
    const std::string bytes = slurp(w.file());
    std::size_t off = 0, n = 0;
    while (off < bytes.size()) {
        ASSERT_LE(off + 12, bytes.size());
        const std::uint64_t len = readLe(bytes, off, 8);
        ASSERT_LE(off + 16 + len, bytes.size());
        EXPECT_EQ(readLe(bytes, off + 8, 4), masked(bytes.substr(off, 8))) << "record " << n;
        EXPECT_EQ(readLe(bytes, off + 12 + len, 4), masked(bytes.substr(off + 12, len)))
            << "record " << n;
        off += 16 + len;
        ++n;
    }
    EXPECT_EQ(off, bytes.size());
    EXPECT_EQ(n, 21u);
}

TEST_F(TensorBoardWriterTest, ReaderDetectsAFlippedByte) {
    std::string bytes;
    {
        TensorBoardWriter w(dir);
        w.write(5, {{"loss", 0.5}}, 10.0);
        bytes = slurp(w.file());
    }
    ASSERT_EQ(readRecords(bytes).size(), 2u);
    const std::size_t second = 16 + readLe(bytes, 0, 8);  // start of the scalar record
    const std::size_t len = readLe(bytes, second, 8);
    // One byte in each part of the record: length, length CRC, payload, payload CRC.
    for (std::size_t at : {second, second + 9, second + 12, second + 12 + len / 2,
                           second + 12 + len - 1, second + 12 + len + 2}) {
        std::string bad = bytes;
        bad[at] = static_cast<char>(bad[at] ^ 0x10);
        EXPECT_THROW(readRecords(bad), std::runtime_error) << "flipped byte at " << at;
    }
    // The same bytes, untouched, still read: the failures above come from the flip.
    EXPECT_NO_THROW(readRecords(bytes));
}

TEST_F(TensorBoardWriterTest, SkipsNonFiniteValues) {
    TensorBoardWriter w(dir);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    w.write(1, {{"nan", nan}, {"kept", 2.0}, {"inf", inf}, {"-inf", -inf}, {"huge", 1e300}});
    const auto sizeAfterOne = fs::file_size(w.file());
    w.write(2, {{"nan", nan}, {"inf", inf}});  // nothing left: no record at all
    EXPECT_EQ(fs::file_size(w.file()), sizeAfterOne);

    const auto records = readRecords(slurp(w.file()));
    ASSERT_EQ(records.size(), 2u);
    const Event e = decodeEvent(records[1]);
    EXPECT_EQ(e.step, 1);
    ASSERT_EQ(e.values.size(), 1u);
    EXPECT_EQ(e.values[0].tag, "kept");
    EXPECT_EQ(e.values[0].value, 2.0f);
}

TEST_F(TensorBoardWriterTest, TwoWritersInOneFolderWriteTwoFiles) {
    TensorBoardWriter a(dir);
    a.write(1, {{"a", 1.0}});
    const std::string aBefore = slurp(a.file());
    TensorBoardWriter b(dir);
    b.write(1, {{"b", 2.0}});
    EXPECT_NE(a.file(), b.file());
    EXPECT_EQ(slurp(a.file()), aBefore);  // the second writer did not touch the first file
    for (const auto* w : {&a, &b}) {
        const auto records = readRecords(slurp(w->file()));
        ASSERT_EQ(records.size(), 2u);
        EXPECT_EQ(decodeEvent(records[0]).fileVersion.value_or(""), "brain.Event:2");
    }
    EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), 2);
}

TEST_F(TensorBoardWriterTest, UnwritableFolderThrowsIoErrorNamingThePath) {
    fs::create_directories(dir);
    // A folder below a regular file cannot be created, even by root.
    const fs::path blocker = dir / "not_a_folder";
    std::ofstream(blocker) << "x";
    const fs::path bad = blocker / "run";
    try {
        TensorBoardWriter w(bad);
        FAIL() << "no exception for " << bad;
    } catch (const IoError& e) {
        EXPECT_NE(std::string(e.what()).find(bad.string()), std::string::npos) << e.what();
    }
    if (::geteuid() != 0) {  // permissions do not stop root
        const fs::path ro = dir / "read_only";
        fs::create_directories(ro);
        fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
        try {
            TensorBoardWriter w(ro);
            ADD_FAILURE() << "no exception for " << ro;
        } catch (const IoError& e) {
            EXPECT_NE(std::string(e.what()).find(ro.string()), std::string::npos) << e.what();
        }
        fs::permissions(ro, fs::perms::owner_all);
    }
}

TEST_F(TensorBoardWriterTest, RestartAtWritesASessionStartAtTheStep) {
    TensorBoardWriter w(dir);
    w.write(4, {{"loss", 1.0}}, 10.0);
    w.restartAt(3, 11.0);
    const auto ev = readFolder(dir);
    ASSERT_EQ(ev.size(), 3u);
    EXPECT_FALSE(ev[1].sessionStatus);
    ASSERT_TRUE(ev[2].sessionStatus.has_value());
    EXPECT_EQ(*ev[2].sessionStatus, 1);  // START: TensorBoard drops earlier points at step >= 3
    EXPECT_EQ(ev[2].step, 3);
    EXPECT_EQ(ev[2].wallTime, 11.0);
    EXPECT_TRUE(ev[2].values.empty());
}
