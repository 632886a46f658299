// SPDX-License-Identifier: MIT
#include "core/base/Error.h"
#include "core/io/CloudFile.h"
#include "core/io/ScanIo.h"
#include "tests/core/io/IoTestUtil.h"
#include "tests/support/TestData.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <gtest/gtest.h>
#include <limits>
#include <typeinfo>

namespace lidistill::test {
namespace {
namespace fs = std::filesystem;
using io::PcdEncoding;
using io::PlyEncoding;

/// Values that a lossy writer would get wrong: tiny, huge, negative zero, full 32-bit labels.
PointCloud awkwardCloud(bool withRing) {
    PointCloud c;
    c.xyz = {{1.5f, -2.25f, 0.125f},
             {1.0e-7f, 3.0e4f, -0.0f},
             {0.1f, 1.0f / 3.0f, -123.456789f},
             {std::numeric_limits<float>::max(), -1.17549435e-38f, 7.0f}};
    c.intensity = {0.25f, 255.0f, 0.3333333f, 0.0f};
    c.label = {40u, (7u << 16) | 10u, 0xFFFFFFFFu, 0u};
    if (withRing) c.ring = {0, 31, 65535, 7};
    return c;
}

void expectSameCloud(const PointCloud& a, const PointCloud& b) {
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        for (int k = 0; k < 3; ++k) {
            // Bitwise, so that -0.0 and every last digit count.
            EXPECT_EQ(std::memcmp(&a.xyz[i][k], &b.xyz[i][k], 4), 0)
                << "point " << i << " axis " << k << ": " << a.xyz[i][k] << " vs " << b.xyz[i][k];
        }
    }
    EXPECT_EQ(a.intensity, b.intensity);
    EXPECT_EQ(a.label, b.label);
    EXPECT_EQ(a.ring, b.ring);
}

class PcdRoundTrip : public ::testing::TestWithParam<PcdEncoding> {};

TEST_P(PcdRoundTrip, KeepsIntensityLabelsRing) {
    LIDISTILL_REQUIRE_PCL();
    const fs::path f = scratchDir() / "c.pcd";
    for (bool ring : {false, true}) {
        const PointCloud c = awkwardCloud(ring);
        io::writePcd(f, c, GetParam());
        expectSameCloud(io::readPcd(f), c);
    }
    const std::string text = slurp(f);
    const char* data = GetParam() == PcdEncoding::Ascii    ? "DATA ascii\n"
                       : GetParam() == PcdEncoding::Binary ? "DATA binary\n"
                                                           : "DATA binary_compressed\n";
    EXPECT_NE(text.find(data), std::string::npos);
    EXPECT_NE(text.find("FIELDS x y z intensity label ring"), std::string::npos)
        << text.substr(0, 300);
    EXPECT_EQ(listNames(f.parent_path()), std::vector<std::string>{"c.pcd"});

    PointCloud xyzOnly;
    xyzOnly.xyz = {{1, 2, 3}};
    io::writePcd(f, xyzOnly, GetParam());
    const PointCloud back = io::readPcd(f);
    EXPECT_EQ(back.xyz, xyzOnly.xyz);
    EXPECT_FALSE(back.hasIntensity());
    EXPECT_FALSE(back.hasLabels());
}

TEST_P(PcdRoundTrip, RealScan) {
    LIDISTILL_REQUIRE_PCL();
    LIDISTILL_REQUIRE_SHARED_DATA();
    const fs::path dir = semanticKittiSeq00();
    const PointCloud c =
        io::readKittiScan(dir / "velodyne" / "000000.bin", dir / "labels" / "000000.label");
    const fs::path f = scratchDir() / "real.pcd";
    io::writePcd(f, c, GetParam());
    expectSameCloud(io::readPcd(f), c);
}

INSTANTIATE_TEST_SUITE_P(Encodings, PcdRoundTrip,
                         ::testing::Values(PcdEncoding::Ascii, PcdEncoding::Binary,
                                           PcdEncoding::BinaryCompressed));

class PlyRoundTrip : public ::testing::TestWithParam<PlyEncoding> {};

TEST_P(PlyRoundTrip, KeepsIntensityLabelsRing) {
    LIDISTILL_REQUIRE_PCL();
    const fs::path f = scratchDir() / "c.ply";
    for (bool ring : {false, true}) {
        const PointCloud c = awkwardCloud(ring);
        io::writePly(f, c, GetParam());
        expectSameCloud(io::readPly(f), c);
    }
    const std::string text = slurp(f);
    const char* format = GetParam() == PlyEncoding::Ascii ? "format ascii 1.0"
                         : GetParam() == PlyEncoding::BinaryLittleEndian
                             ? "format binary_little_endian 1.0"
                             : "format binary_big_endian 1.0";
    EXPECT_NE(text.find(format), std::string::npos) << text.substr(0, 300);
    EXPECT_NE(text.find("element vertex 4"), std::string::npos);
    EXPECT_EQ(listNames(f.parent_path()), std::vector<std::string>{"c.ply"});
}

INSTANTIATE_TEST_SUITE_P(Encodings, PlyRoundTrip,
                         ::testing::Values(PlyEncoding::Ascii, PlyEncoding::BinaryLittleEndian,
                                           PlyEncoding::BinaryBigEndian));

TEST(CloudFile, EmptyCloudsRoundTripInEveryEncoding) {
    LIDISTILL_REQUIRE_PCL();
    const fs::path dir = scratchDir();
    for (auto enc : {PcdEncoding::Ascii, PcdEncoding::Binary, PcdEncoding::BinaryCompressed}) {
        io::writePcd(dir / "e.pcd", PointCloud{}, enc);
        EXPECT_TRUE(io::readPcd(dir / "e.pcd").empty());
    }
    for (auto enc :
         {PlyEncoding::Ascii, PlyEncoding::BinaryLittleEndian, PlyEncoding::BinaryBigEndian}) {
        io::writePly(dir / "e.ply", PointCloud{}, enc);
        EXPECT_TRUE(io::readPly(dir / "e.ply").empty());
    }
    EXPECT_THROW(io::writeKittiBin(dir / "e.bin", PointCloud{}), InvalidArgument);
    EXPECT_THROW(io::writeLabelFile(dir / "e.label", {}), InvalidArgument);
    EXPECT_EQ(listNames(dir), (std::vector<std::string>{"e.pcd", "e.ply"}));
}

TEST(CloudFile, BigEndianPlyBytesAreBigEndian) {
    // Independent of PCL: check the stored bytes of the first x.
    const fs::path f = scratchDir() / "be.ply";
    io::writePly(f, awkwardCloud(false), PlyEncoding::BinaryBigEndian);
    const std::string text = slurp(f);
    const std::size_t data = text.find("end_header\n") + 11;
    const unsigned char expected[4] = {0x3F, 0xC0, 0x00, 0x00};  // 1.5f
    EXPECT_EQ(std::memcmp(text.data() + data, expected, 4), 0);
}

TEST(CloudFile, ReadsHandWrittenFiles) {
    LIDISTILL_REQUIRE_PCL();
    const fs::path dir = scratchDir();
    // PCD with double coordinates, an unsigned byte label and a multi-count field before x.
    writeBytes(dir / "hand.pcd",
               "# .PCD v0.7 - Point Cloud Data file format\nVERSION 0.7\n"
               "FIELDS normal x y z intensity label\nSIZE 4 8 8 8 4 1\nTYPE F F F F F U\n"
               "COUNT 3 1 1 1 1 1\nWIDTH 2\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS 2\n"
               "DATA ascii\n0 0 1 1.25 -2.5 3.75 0.5 7\n0 0 1 10 20 30 0.75 255\n");
    const PointCloud pcd = io::readPcd(dir / "hand.pcd");
    EXPECT_EQ(pcd.xyz, (std::vector<Vec3f>{{1.25f, -2.5f, 3.75f}, {10, 20, 30}}));
    EXPECT_EQ(pcd.intensity, (std::vector<float>{0.5f, 0.75f}));
    EXPECT_EQ(pcd.label, (std::vector<std::uint32_t>{7, 255}));

    // PLY with CloudCompare's scalar_intensity, double coordinates and a face element.
    writeBytes(dir / "hand.ply",
               "ply\nformat ascii 1.0\ncomment hand made\nelement vertex 3\n"
               "property double x\nproperty double y\nproperty double z\n"
               "property float scalar_intensity\nelement face 1\n"
               "property list uchar int vertex_indices\nend_header\n"
               "1 2 3 0.5\n4 5 6 0.25\n-1 -2 -3 1\n3 0 1 2\n");
    const PointCloud ply = io::readPly(dir / "hand.ply");
    EXPECT_EQ(ply.xyz, (std::vector<Vec3f>{{1, 2, 3}, {4, 5, 6}, {-1, -2, -3}}));
    EXPECT_EQ(ply.intensity, (std::vector<float>{0.5f, 0.25f, 1.0f}));
    EXPECT_FALSE(ply.hasLabels());
}

// A GPU-server build without PCL refuses PCD/PLY data with an error naming the file and why,
// still checks headers first, and still writes PLY (our own writer) atomically.
TEST(CloudFileWithoutPcl, RefusesDataNamingTheFileButChecksHeadersAndWritesPly) {
    if (LIDISTILL_WITH_PCL) GTEST_SKIP() << "this build reads PCD/PLY through PCL";
    const fs::path dir = scratchDir();
    writeBytes(dir / "ok.pcd",
               "VERSION 0.7\nFIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nCOUNT 1 1 1\nWIDTH 1\n"
               "HEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS 1\nDATA ascii\n1 2 3\n");
    auto expectRefusal = [](const fs::path& file, const std::function<void()>& f) {
        try {
            f();
            ADD_FAILURE() << "no error for " << file;
        } catch (const IoError& e) {
            const std::string what = e.what();
            EXPECT_NE(what.find(file.filename().string()), std::string::npos) << what;
            EXPECT_NE(what.find("without PCL"), std::string::npos) << what;
        }
    };
    expectRefusal(dir / "ok.pcd", [&] { io::readPcd(dir / "ok.pcd"); });
    expectRefusal(dir / "ok.pcd", [&] { io::readCloud(dir / "ok.pcd"); });
    expectRefusal(dir / "new.pcd", [&] { io::writePcd(dir / "new.pcd", awkwardCloud(true)); });
    EXPECT_FALSE(fs::exists(dir / "new.pcd"));

    // A lying header is reported as such, not as a missing library.
    writeBytes(dir / "bad.pcd",
               "VERSION 0.7\nFIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nCOUNT 1 1 1\nWIDTH 5\n"
               "HEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS 1\nDATA ascii\n1 2 3\n");
    try {
        io::readPcd(dir / "bad.pcd");
        ADD_FAILURE() << "no error for a PCD whose WIDTH*HEIGHT != POINTS";
    } catch (const IoError& e) {
        EXPECT_EQ(std::string(e.what()).find("without PCL"), std::string::npos) << e.what();
    }

    for (const auto enc : {PlyEncoding::Ascii, PlyEncoding::BinaryLittleEndian}) {
        const fs::path ply = dir / "out.ply";
        io::writePly(ply, awkwardCloud(false), enc);
        const std::string text = slurp(ply);
        EXPECT_EQ(text.rfind("ply\nformat ", 0), 0u);
        EXPECT_NE(text.find("element vertex 4\n"), std::string::npos);
        expectRefusal(ply, [&] { io::readPly(ply); });  // header accepted, data refused
    }
}

TEST(CloudFile, NonFinitePointsFollowReadOptions) {
    LIDISTILL_REQUIRE_PCL();
    const fs::path f = scratchDir() / "nan.pcd";
    writeBytes(f,
               "VERSION 0.7\nFIELDS x y z label\nSIZE 4 4 4 4\nTYPE F F F U\nCOUNT 1 1 1 1\n"
               "WIDTH 3\nHEIGHT 1\nPOINTS 3\nDATA ascii\n1 1 1 10\nnan 2 2 20\n3 3 3 30\n");
    LogCapture logs;
    const PointCloud c = io::readPcd(f);
    EXPECT_EQ(c.xyz, (std::vector<Vec3f>{{1, 1, 1}, {3, 3, 3}}));
    EXPECT_EQ(c.label, (std::vector<std::uint32_t>{10, 30}));
    ASSERT_EQ(logs.warnings().size(), 1u);
    EXPECT_NE(logs.warnings()[0].find("dropped 1 points"), std::string::npos);
    expectIoError([&] { io::readPcd(f, {.strict = true}); }, f, "point 1 has a NaN");
}

TEST(CloudFile, FormatDispatch) {
    LIDISTILL_REQUIRE_PCL();
    EXPECT_EQ(io::formatFromPath("a/000001.bin"), io::CloudFormat::KittiBin);
    EXPECT_EQ(io::formatFromPath("x__LIDAR_TOP__1.pcd.bin"), io::CloudFormat::NuscenesBin);
    EXPECT_EQ(io::formatFromPath("X.PCD.BIN"), io::CloudFormat::NuscenesBin);
    EXPECT_EQ(io::formatFromPath("scan.Pcd"), io::CloudFormat::Pcd);
    EXPECT_EQ(io::formatFromPath("mesh.PLY"), io::CloudFormat::Ply);
    expectIoError([] { io::formatFromPath("cloud.las"); }, "cloud.las", "unsupported");
    expectIoError([] { io::formatFromPath("bin"); }, "bin", "unsupported");

    const fs::path dir = scratchDir();
    const PointCloud c = awkwardCloud(false);
    for (const char* name : {"a.bin", "a.pcd", "a.ply"}) {
        io::writeCloud(dir / name, c);
        const PointCloud back = io::readCloud(dir / name);
        EXPECT_EQ(back.xyz, c.xyz) << name;
        EXPECT_EQ(back.intensity, c.intensity) << name;
    }
    EXPECT_EQ(io::readCloud(dir / "a.pcd").label, c.label);  // .bin has no labels
    EXPECT_NE(slurp(dir / "a.pcd").find("DATA binary\n"), std::string::npos);
    EXPECT_NE(slurp(dir / "a.ply").find("binary_little_endian"), std::string::npos);
    EXPECT_EQ(fs::file_size(dir / "a.bin"), 4u * 16u);
    expectIoError([&] { io::writeCloud(dir / "a.pcd.bin", c); }, dir / "a.pcd.bin",
                  "not supported");
    expectIoError([&] { io::writeCloud(dir / "a.xyz", c); }, dir / "a.xyz", "unsupported");
}

// ---- bad input --------------------------------------------------------------------------

std::string pcdHeader(const std::string& data, int points, const std::string& fields = "x y z",
                      const std::string& sizes = "4 4 4", const std::string& types = "F F F",
                      const std::string& counts = "1 1 1") {
    return "VERSION 0.7\nFIELDS " + fields + "\nSIZE " + sizes + "\nTYPE " + types + "\nCOUNT " +
           counts + "\nWIDTH " + std::to_string(points) + "\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\n" +
           "POINTS " + std::to_string(points) + "\nDATA " + data + "\n";
}

TEST(CloudFileBadInput, TruncatedBinaryPcd) {
    LIDISTILL_REQUIRE_PCL();
    const fs::path dir = scratchDir();
    PointCloud big;
    big.xyz.assign(1000, {1, 2, 3});
    // PCL pads binary PCD files to a page, so cut into the point data itself.
    const std::size_t dataStart = [&] {
        io::writePcd(dir / "full.pcd", big, PcdEncoding::Binary);
        const std::string b = slurp(dir / "full.pcd");
        return b.find("DATA binary\n") + 12;
    }();
    std::string bytes = slurp(dir / "full.pcd");
    writeBytes(dir / "cut.pcd", bytes.substr(0, dataStart + 12 * 1000 - 100));
    expectIoError([&] { io::readPcd(dir / "cut.pcd"); }, dir / "cut.pcd",
                  "binary PCD data is truncated");

    io::writePcd(dir / "full.pcd", big, PcdEncoding::BinaryCompressed);
    bytes = slurp(dir / "full.pcd");
    std::uint32_t compressed = 0;
    const std::size_t cStart = bytes.find("DATA binary_compressed\n") + 23;
    std::memcpy(&compressed, bytes.data() + cStart, 4);
    writeBytes(dir / "cutc.pcd", bytes.substr(0, cStart + 8 + compressed - 5));
    expectIoError([&] { io::readPcd(dir / "cutc.pcd"); }, dir / "cutc.pcd",
                  "binary_compressed PCD data is truncated");

    io::writePcd(dir / "full.pcd", big, PcdEncoding::Ascii);
    bytes = slurp(dir / "full.pcd");
    writeBytes(dir / "cuta.pcd", bytes.substr(0, bytes.size() - 40));
    expectIoError([&] { io::readPcd(dir / "cuta.pcd"); }, dir / "cuta.pcd", "ascii PCD");
}

TEST(CloudFileBadInput, PcdPointsLies) {
    const fs::path dir = scratchDir();
    const std::vector<float> two = {1, 2, 3, 4, 5, 6};
    // POINTS larger than the data, consistent with WIDTH: the data size check catches it.
    writeBytes(dir / "lie.pcd", pcdHeader("binary", 5000) + asBytes(two));
    expectIoError([&] { io::readPcd(dir / "lie.pcd"); }, dir / "lie.pcd",
                  "5000 points of 12 bytes need 60000 bytes, the file holds 24");
    // POINTS disagreeing with WIDTH * HEIGHT.
    std::string h = pcdHeader("binary", 2);
    h.replace(h.find("POINTS 2"), 8, "POINTS 9");
    writeBytes(dir / "wh.pcd", h + asBytes(two));
    expectIoError([&] { io::readPcd(dir / "wh.pcd"); }, dir / "wh.pcd",
                  "POINTS 9 but WIDTH 2 * HEIGHT 1 = 2");
    // The compressed size words lie about the uncompressed size.
    std::vector<std::uint32_t> words = {4, 999};
    writeBytes(dir / "lz.pcd", pcdHeader("binary_compressed", 2) + asBytes(words) + "abcd");
    expectIoError([&] { io::readPcd(dir / "lz.pcd"); }, dir / "lz.pcd",
                  "announces 999 uncompressed bytes");
    // 10 million points from 4 compressed bytes: no LZF stream expands 88 times, so the
    // header lies, and it is refused before PCL allocates the 120 MB it announces.
    words = {4, 120'000'000u};
    writeBytes(dir / "bomb.pcd", pcdHeader("binary_compressed", 10'000'000) + asBytes(words) +
                                     "abcd");
    expectIoError([&] { io::readPcd(dir / "bomb.pcd"); }, dir / "bomb.pcd",
                  "announces 120000000 bytes from 4 compressed ones, more than LZF can expand");
    // Correct sizes but garbage compressed bytes: PCL's decoder rejects them.
    words = {4, 24};
    writeBytes(dir / "lz2.pcd", pcdHeader("binary_compressed", 2) + asBytes(words) + "abcd");
    EXPECT_THROW(io::readPcd(dir / "lz2.pcd"), IoError);
}

TEST(CloudFileBadInput, PcdHeaderInconsistent) {
    const fs::path dir = scratchDir();
    const std::string data = asBytes(std::vector<float>{1, 2, 3});
    writeBytes(dir / "noz.pcd", pcdHeader("binary", 1, "x y w") + data);
    expectIoError([&] { io::readPcd(dir / "noz.pcd"); }, dir / "noz.pcd", "no 'z' field");
    writeBytes(dir / "size.pcd", pcdHeader("binary", 1, "x y z", "4 4") + data);
    expectIoError([&] { io::readPcd(dir / "size.pcd"); }, dir / "size.pcd",
                  "3 FIELDS but 2 SIZE entries");
    writeBytes(dir / "type.pcd", pcdHeader("binary", 1, "x y z", "4 4 4", "F F Q") + data);
    expectIoError([&] { io::readPcd(dir / "type.pcd"); }, dir / "type.pcd",
                  "type 'Q' is not I, U or F");
    writeBytes(dir / "f2.pcd", pcdHeader("binary", 1, "x y z", "4 4 2") + data);
    expectIoError([&] { io::readPcd(dir / "f2.pcd"); }, dir / "f2.pcd", "unsupported size 2");
    writeBytes(dir / "count.pcd", pcdHeader("binary", 1, "x y z", "4 4 4", "F F F", "1 1") + data);
    expectIoError([&] { io::readPcd(dir / "count.pcd"); }, dir / "count.pcd", "COUNT entries");
    writeBytes(dir / "nodata.pcd", "VERSION 0.7\nFIELDS x y z\nSIZE 4 4 4\nTYPE F F F\n");
    expectIoError([&] { io::readPcd(dir / "nodata.pcd"); }, dir / "nodata.pcd", "no DATA line");
    writeBytes(dir / "enc.pcd", pcdHeader("zip", 1) + data);
    expectIoError([&] { io::readPcd(dir / "enc.pcd"); }, dir / "enc.pcd", "unknown encoding");
    writeBytes(dir / "cols.pcd", pcdHeader("ascii", 2) + "1 2 3\n4 5\n");
    expectIoError([&] { io::readPcd(dir / "cols.pcd"); }, dir / "cols.pcd",
                  "ascii PCD point 1 has 2 values");
}

std::string plyHeader(const std::string& format, int vertices,
                      const std::string& props =
                          "property float x\nproperty float y\n"
                          "property float z\n") {
    return "ply\nformat " + format + " 1.0\nelement vertex " + std::to_string(vertices) + "\n" +
           props + "end_header\n";
}

TEST(CloudFileBadInput, PlyVertexCountLies) {
    LIDISTILL_REQUIRE_PCL();
    const fs::path dir = scratchDir();
    const std::string two = asBytes(std::vector<float>{1, 2, 3, 4, 5, 6});
    writeBytes(dir / "lie.ply", plyHeader("binary_little_endian", 1000) + two);
    expectIoError([&] { io::readPly(dir / "lie.ply"); }, dir / "lie.ply",
                  "binary PLY data is truncated: element vertex 1000");
    writeBytes(dir / "lieb.ply", plyHeader("binary_big_endian", 3) + two);
    expectIoError([&] { io::readPly(dir / "lieb.ply"); }, dir / "lieb.ply", "truncated");
    writeBytes(dir / "liea.ply", plyHeader("ascii", 3) + "1 2 3\n4 5 6\n");
    expectIoError([&] { io::readPly(dir / "liea.ply"); }, dir / "liea.ply",
                  "ascii PLY data is truncated");
    // An honest count reads fine.
    writeBytes(dir / "ok.ply", plyHeader("binary_little_endian", 2) + two);
    EXPECT_EQ(io::readPly(dir / "ok.ply").size(), 2u);
}

TEST(CloudFileBadInput, PlyHeaderFaults) {
    const fs::path dir = scratchDir();
    const std::string one = asBytes(std::vector<float>{1, 2, 3});
    writeBytes(dir / "noz.ply",
               plyHeader("binary_little_endian", 1,
                         "property float x\nproperty float y\nproperty float w\n") +
                   one);
    expectIoError([&] { io::readPly(dir / "noz.ply"); }, dir / "noz.ply", "no 'z' property");
    writeBytes(dir / "fmt.ply", plyHeader("binary_middle_endian", 1) + one);
    expectIoError([&] { io::readPly(dir / "fmt.ply"); }, dir / "fmt.ply", "unknown format");
    writeBytes(
        dir / "type.ply",
        plyHeader("ascii", 1, "property float x\nproperty float y\nproperty quad z\n") + "1 2 3\n");
    expectIoError([&] { io::readPly(dir / "type.ply"); }, dir / "type.ply",
                  "unknown property type 'quad'");
    writeBytes(dir / "noend.ply", "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\n");
    expectIoError([&] { io::readPly(dir / "noend.ply"); }, dir / "noend.ply", "no end_header");
    writeBytes(dir / "novert.ply",
               "ply\nformat ascii 1.0\nelement face 0\nproperty list uchar int v\nend_header\n");
    expectIoError([&] { io::readPly(dir / "novert.ply"); }, dir / "novert.ply",
                  "no 'vertex' element");
    // PCL sizes its buffer from obj_info num_cols x num_rows and asserts if vertices overflow.
    const std::string two = asBytes(std::vector<float>{1, 2, 3, 4, 5, 6});
    writeBytes(dir / "cols.ply",
               "ply\nformat binary_little_endian 1.0\nobj_info num_cols 1\n"
               "obj_info num_rows 1\nelement vertex 2\nproperty float x\n"
               "property float y\nproperty float z\nend_header\n" +
                   two);
    expectIoError([&] { io::readPly(dir / "cols.ply"); }, dir / "cols.ply",
                  "num_cols 1 x num_rows 1 disagrees with element vertex 2");
    writeBytes(dir / "list.ply", plyHeader("ascii", 1,
                                           "property float x\nproperty float y\nproperty float z\n"
                                           "property list uchar float extra\n") +
                                     "1 2 3 2 0.5 0.5\n");
    expectIoError([&] { io::readPly(dir / "list.ply"); }, dir / "list.ply",
                  "list property 'extra' in the vertex element");
}

/// PCL takes width and height from a camera element's viewport after sizing its buffer; with
/// 2^30 x 2^29 "points" of 32 bytes, points x record size wraps to the 0 bytes PCL returned,
/// so only a wrap-free size check stops a 2^59-point allocation.
TEST(CloudFileBadInput, PlyCameraViewportSizeWrap) {
    LIDISTILL_REQUIRE_PCL();
    const fs::path dir = scratchDir();
    std::string props;
    for (const char* name : {"x", "y", "z", "a", "b", "c", "d", "e"}) {
        props += std::string("property float ") + name + "\n";
    }
    const std::string header = "ply\nformat binary_little_endian 1.0\nelement vertex 0\n" + props +
                               "element camera 1\nproperty int viewportx\n"
                               "property int viewporty\nend_header\n";
    writeBytes(dir / "wrap.ply", header + asBytes(std::vector<std::int32_t>{1 << 30, 1 << 29}));
    expectIoError([&] { io::readPly(dir / "wrap.ply"); }, dir / "wrap.ply",
                  "PCL returned 0 bytes of point data for 576460752303423488 points");
    // The same file with an honest viewport (0 x 0 for no vertices) reads as an empty cloud.
    writeBytes(dir / "ok.ply", header + asBytes(std::vector<std::int32_t>{0, 0}));
    EXPECT_TRUE(io::readPly(dir / "ok.ply").empty());
}

// These crashed PCL 1.13 inside its reader (found by the fuzz targets, inputs kept in
// tests/fuzz/regressions): the header checks refuse them first, naming the file and the line.
TEST(CloudFileBadInput, HeadersThatCrashPclAreRefused) {
    const fs::path dir = scratchDir();
    // A PCD header line of only blanks, or a lone CR: PCL dereferences null.
    for (const char* blank : {"\t", " ", "\r"}) {
        writeBytes(dir / "blank.pcd", std::string(blank) + "\n" + pcdHeader("ascii", 1) + "1 2 3\n");
        expectIoError([&] { io::readPcd(dir / "blank.pcd"); }, dir / "blank.pcd",
                      "PCD header line 1 holds only blanks");
    }
    // Binary data whose first bytes spell a header keyword: PCL reads on as header, and
    // "COLUMNS" with no names re-declares zero fields and crashes it.
    const std::string xyz = asBytes(std::vector<float>{1, 2, 3, 4, 5, 6});
    writeBytes(dir / "columns.pcd", pcdHeader("binary", 2) + "COLUMNS\n" + xyz.substr(8));
    expectIoError([&] { io::readPcd(dir / "columns.pcd"); }, dir / "columns.pcd",
                  "the data after the DATA line begins with 'COLUMNS'");
    writeBytes(dir / "comment.pcd", pcdHeader("binary", 2) + "#\nSIZE 8\n" + xyz.substr(9));
    expectIoError([&] { io::readPcd(dir / "comment.pcd"); }, dir / "comment.pcd",
                  "begins with 'SIZE'");
    // A form feed or vertical tab between a keyword and its value: PCL's keyword stream splits
    // there, its word list does not, and "DATA\fascii" throws std::out_of_range inside it.
    for (const char* sep : {"\f", "\v"}) {
        std::string text = pcdHeader("ascii", 1) + "1 2 3\n";
        text.replace(text.find("DATA ") + 4, 1, sep);
        writeBytes(dir / "ff.pcd", text);
        expectIoError([&] { io::readPcd(dir / "ff.pcd"); }, dir / "ff.pcd",
                      "holds a vertical tab or form feed (PCL cannot read such a header)");
    }
    // In ascii data PCL would misread the values: refused as well.
    writeBytes(dir / "ff-data.pcd", pcdHeader("ascii", 1) + "1\v2 3\n");
    expectIoError([&] { io::readPcd(dir / "ff-data.pcd"); }, dir / "ff-data.pcd",
                  "ascii PCD point 0 holds a vertical tab or form feed");
    // An empty line is fine (PCL skips it); that file reads whole.
    writeBytes(dir / "empty-line.pcd", "\n" + pcdHeader("ascii", 1) + "1 2 3\n");
    if (LIDISTILL_WITH_PCL) {
        EXPECT_EQ(io::readPcd(dir / "empty-line.pcd").xyz, (std::vector<Vec3f>{{1, 2, 3}}));
    }
    // A uchar blue (or green) vertex property without a uchar red before it: PCL asserts.
    const std::string head = "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\n"
                             "property float y\nproperty float z\n";
    writeBytes(dir / "blue.ply", head + "property uchar blue\nproperty uchar i\nend_header\n"
                                        "0 0 0 5 1\n");
    expectIoError([&] { io::readPly(dir / "blue.ply"); }, dir / "blue.ply",
                  "PLY header line 7: vertex property 'blue' without a preceding uchar 'red'");
    writeBytes(dir / "green.ply", head + "property uint8 green\nend_header\n0 0 0 5\n");
    expectIoError([&] { io::readPly(dir / "green.ply"); }, dir / "green.ply",
                  "vertex property 'green' without a preceding uchar 'red'");
    // Binary records without properties: nothing to check against the file's size, but PCL
    // loops over every one (7e11 of them hang it).
    writeBytes(dir / "empty-records.ply",
               "ply\nformat binary_big_endian 1.0\nelement vertex 0\nproperty float x\n"
               "property float y\nproperty float z\nelement junk 777777777777\nend_header\n");
    expectIoError([&] { io::readPly(dir / "empty-records.ply"); }, dir / "empty-records.ply",
                  "PLY element 'junk' declares 777777777777 records without properties");
    // With red first, or as floats (plain fields to PCL), the colours are fine.
    writeBytes(dir / "rgb.ply", head + "property uchar red\nproperty uchar blue\n"
                                       "property uchar i\nend_header\n1 2 3 5 6 7\n");
    writeBytes(dir / "fblue.ply", head + "property float blue\nproperty uchar i\nend_header\n"
                                         "1 2 3 5 6\n");
    if (LIDISTILL_WITH_PCL) {
        EXPECT_EQ(io::readPly(dir / "rgb.ply").xyz, (std::vector<Vec3f>{{1, 2, 3}}));
        EXPECT_EQ(io::readPly(dir / "fblue.ply").xyz, (std::vector<Vec3f>{{1, 2, 3}}));
    }
}

TEST(CloudFileBadInput, GarbageAndEmptyFiles) {
    const fs::path dir = scratchDir();
    std::string garbage(4096, '\0');
    for (std::size_t i = 0; i < garbage.size(); ++i) {
        garbage[i] = static_cast<char>((i * 2654435761u) >> 13);
    }
    writeBytes(dir / "g.pcd", garbage);
    writeBytes(dir / "g.ply", garbage);
    writeBytes(dir / "e.pcd", "");
    writeBytes(dir / "e.ply", "");
    writeBytes(dir / "text.pcd", "hello world\n");
    EXPECT_THROW(io::readPcd(dir / "g.pcd"), IoError);
    expectIoError([&] { io::readPly(dir / "g.ply"); }, dir / "g.ply", "not a PLY file");
    expectIoError([&] { io::readPcd(dir / "e.pcd"); }, dir / "e.pcd", "file is empty");
    expectIoError([&] { io::readPly(dir / "e.ply"); }, dir / "e.ply", "file is empty");
    expectIoError([&] { io::readPcd(dir / "text.pcd"); }, dir / "text.pcd",
                  "unknown header keyword");
    expectIoError([&] { io::readCloud(dir / "missing.ply"); }, dir / "missing.ply",
                  "file not found");
}

TEST(CloudFileBadInput, FailedWritesKeepOldFile) {
    LIDISTILL_REQUIRE_PCL();
    const fs::path dir = scratchDir();
    const PointCloud small = awkwardCloud(false);
    io::writePcd(dir / "c.pcd", small);
    io::writePly(dir / "c.ply", small);
    const std::string oldPcd = slurp(dir / "c.pcd");
    const std::string oldPly = slurp(dir / "c.ply");
    PointCloud big;  // varied values, so that even the compressed encoding is far over 32 KB
    for (int i = 0; i < 100000; ++i) {
        big.xyz.push_back({0.001f * static_cast<float>(i), std::sin(static_cast<float>(i)),
                           std::cos(0.37f * static_cast<float>(i))});
        big.intensity.push_back(static_cast<float>(i % 977) / 977.0f);
    }
    {
        const FileSizeLimit limit(32 * 1024);
        for (auto enc : {PcdEncoding::Ascii, PcdEncoding::Binary, PcdEncoding::BinaryCompressed}) {
            EXPECT_THROW(io::writePcd(dir / "c.pcd", big, enc), IoError);
        }
        for (auto enc :
             {PlyEncoding::Ascii, PlyEncoding::BinaryLittleEndian, PlyEncoding::BinaryBigEndian}) {
            EXPECT_THROW(io::writePly(dir / "c.ply", big, enc), IoError);
        }
    }
    EXPECT_TRUE(slurp(dir / "c.pcd") == oldPcd);
    EXPECT_TRUE(slurp(dir / "c.ply") == oldPly);
    EXPECT_EQ(listNames(dir), (std::vector<std::string>{"c.pcd", "c.ply"}));

    PointCloud bad = small;
    bad.label.pop_back();  // inconsistent cloud: rejected before anything is written
    EXPECT_THROW(io::writePcd(dir / "c.pcd", bad), InvalidArgument);
    EXPECT_TRUE(slurp(dir / "c.pcd") == oldPcd);
}

}  // namespace
}  // namespace lidistill::test

namespace lidistill::test {
namespace {

/// Damaged copies of valid files (truncated anywhere, header digits changed, bytes flipped)
/// must give a cloud or an IoError, never another exception or a crash inside PCL.
TEST(CloudFileBadInput, DamagedFilesGiveIoErrorOnly) {
    LIDISTILL_REQUIRE_PCL();
    const fs::path dir = scratchDir();
    PointCloud c;
    for (int i = 0; i < 64; ++i) {
        c.xyz.push_back({static_cast<float>(i), 0.5f * static_cast<float>(i), -1.0f});
        c.intensity.push_back(static_cast<float>(i) / 64.0f);
        c.label.push_back(static_cast<std::uint32_t>(i * 7));
    }
    std::vector<std::pair<std::string, std::string>> originals;
    for (auto enc : {PcdEncoding::Ascii, PcdEncoding::Binary, PcdEncoding::BinaryCompressed}) {
        io::writePcd(dir / "o.pcd", c, enc);
        originals.emplace_back("pcd", slurp(dir / "o.pcd"));
    }
    for (auto enc :
         {PlyEncoding::Ascii, PlyEncoding::BinaryLittleEndian, PlyEncoding::BinaryBigEndian}) {
        io::writePly(dir / "o.ply", c, enc);
        originals.emplace_back("ply", slurp(dir / "o.ply"));
    }
    std::uint64_t state = 0x9E3779B97F4A7C15ull;  // fixed seed: the same cases every run
    auto next = [&] {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    };
    // LIDISTILL_DAMAGE_CASES raises the count for a longer hunt (e.g. under ASan).
    const char* env = std::getenv("LIDISTILL_DAMAGE_CASES");
    const int perFile = env ? std::max(3, std::atoi(env)) : 60;
    int ioErrors = 0;
    int cases = 0;
    for (const auto& [ext, bytes] : originals) {
        const std::size_t headerEnd = bytes.find(ext == "pcd" ? "DATA" : "end_header");
        for (int k = 0; k < perFile; ++k, ++cases) {
            std::string damaged = bytes;
            switch (k % 3) {
                case 0:
                    damaged.resize(next() % bytes.size());
                    break;
                case 1: {  // change a header digit, e.g. a count or size
                    std::vector<std::size_t> digits;
                    for (std::size_t i = 0; i < headerEnd; ++i) {
                        if (std::isdigit(static_cast<unsigned char>(bytes[i]))) digits.push_back(i);
                    }
                    damaged[digits[next() % digits.size()]] = static_cast<char>('0' + next() % 10);
                    break;
                }
                default:
                    for (int f = 0; f < 4; ++f) {
                        damaged[next() % damaged.size()] = static_cast<char>(next() & 0xFF);
                    }
            }
            const fs::path f = dir / ("d." + ext);
            writeBytes(f, damaged);
            try {
                const PointCloud r = io::readCloud(f);
                r.validate();
            } catch (const IoError& e) {
                ++ioErrors;
                EXPECT_EQ(e.file(), f);
            } catch (const std::exception& e) {
                ADD_FAILURE() << "case " << cases << ": " << typeid(e).name() << ": " << e.what();
            }
        }
    }
    // Most damage is detected (flipped data bytes can legitimately still parse).
    EXPECT_GT(ioErrors, cases / 3);
}

}  // namespace
}  // namespace lidistill::test
