// SPDX-License-Identifier: MIT
#include "core/io/ScanIo.h"

#include "core/base/AtomicFile.h"
#include "core/base/Error.h"
#include "core/base/Log.h"
#include "core/base/MemoryBudget.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <string>
#include <system_error>

namespace lidistill::io {
namespace fs = std::filesystem;

namespace {

// The formats are little-endian by definition; swap only on a big-endian host.
void fromLittleEndian(std::uint32_t* words, std::size_t n) {
    if constexpr (std::endian::native == std::endian::big) {
        for (std::size_t i = 0; i < n; ++i) {
            words[i] = __builtin_bswap32(words[i]);
        }
    } else {
        (void)words;
        (void)n;
    }
}

/// Decodes `floatsPerPoint` little-endian float32 a point, after checking the record size.
std::vector<float> decodeRecords(const fs::path& file, const std::vector<char>& bytes,
                                 std::size_t floatsPerPoint) {
    const std::size_t record = floatsPerPoint * sizeof(float);
    if (bytes.size() % record != 0) {
        throw IoError(file, "file size " + std::to_string(bytes.size()) +
                                " bytes is not a multiple of " + std::to_string(record) + " (" +
                                std::to_string(floatsPerPoint) +
                                " float32 a point); the file is truncated or not a scan");
    }
    std::vector<float> values(bytes.size() / sizeof(float));
    std::memcpy(values.data(), bytes.data(), bytes.size());
    fromLittleEndian(reinterpret_cast<std::uint32_t*>(values.data()), values.size());
    return values;
}

/// A KITTI scan as stored, non-finite points included.
PointCloud readKittiBinRaw(const fs::path& file) {
    const std::vector<float> v = decodeRecords(file, readFileBytes(file), 4);
    const std::size_t n = v.size() / 4;
    PointCloud cloud;
    cloud.xyz.resize(n);
    cloud.intensity.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        cloud.xyz[i] = {v[4 * i], v[4 * i + 1], v[4 * i + 2]};
        cloud.intensity[i] = v[4 * i + 3];
    }
    return cloud;
}

bool finitePoint(const Vec3f& p) {
    return std::isfinite(p[0]) && std::isfinite(p[1]) && std::isfinite(p[2]);
}

}  // namespace

std::vector<char> readFileBytes(const fs::path& file) {
    std::error_code ec;
    const auto status = fs::status(file, ec);
    if (!fs::exists(status)) {
        throw IoError(file, "file not found");
    }
    if (!fs::is_regular_file(status)) {
        throw IoError(file, "not a regular file");
    }
    std::ifstream in(file, std::ios::binary | std::ios::ate);
    if (!in) {
        throw IoError(file, "cannot open the file for reading (permissions?)");
    }
    const std::streamoff size = in.tellg();
    if (size < 0) {
        throw IoError(file, "cannot determine the file size");
    }
    if (size == 0) {
        throw IoError(file, "file is empty");
    }
    checkMemoryBudget(file, static_cast<std::uint64_t>(size), "reading the whole file");
    std::vector<char> bytes(static_cast<std::size_t>(size));
    in.seekg(0);
    in.read(bytes.data(), size);
    if (in.gcount() != size) {
        throw IoError(file, "read failed after " + std::to_string(in.gcount()) + " of " +
                                std::to_string(size) + " bytes");
    }
    return bytes;
}

std::size_t dropNonFinite(PointCloud& cloud, const fs::path& file, const ReadOptions& options) {
    std::size_t bad = 0;
    std::size_t first = 0;
    for (std::size_t i = 0; i < cloud.size(); ++i) {
        if (!finitePoint(cloud.xyz[i])) {
            if (bad == 0) {
                first = i;
            }
            ++bad;
        }
    }
    if (bad == 0) {
        return 0;
    }
    if (options.strict) {
        throw IoError(file, "point " + std::to_string(first) +
                                " has a NaN or infinite coordinate (" + std::to_string(bad) +
                                " such points in all)");
    }
    std::vector<bool> keep(cloud.size());
    for (std::size_t i = 0; i < cloud.size(); ++i) {
        keep[i] = finitePoint(cloud.xyz[i]);
    }
    cloud.filter(keep);
    log::warn(file.string(), ": dropped ", bad, " points with NaN or infinite coordinates");
    return bad;
}

PointCloud readKittiBin(const fs::path& file, const ReadOptions& options) {
    PointCloud cloud = readKittiBinRaw(file);
    dropNonFinite(cloud, file, options);
    return cloud;
}

PointCloud readKittiScan(const fs::path& binFile, const std::optional<fs::path>& labelFile,
                         const ReadOptions& options) {
    PointCloud cloud = readKittiBinRaw(binFile);
    if (labelFile) {
        cloud.label = readLabelFile(*labelFile);
        if (cloud.label.size() != cloud.size()) {
            throw IoError(*labelFile, "holds " + std::to_string(cloud.label.size()) +
                                          " labels but the scan " + binFile.string() + " has " +
                                          std::to_string(cloud.size()) + " points");
        }
    }
    // Filter after attaching labels, so dropped points take their labels with them.
    dropNonFinite(cloud, binFile, options);
    return cloud;
}

std::vector<std::uint32_t> readLabelFile(const fs::path& file) {
    const std::vector<char> bytes = readFileBytes(file);
    if (bytes.size() % 4 != 0) {
        throw IoError(file, "file size " + std::to_string(bytes.size()) +
                                " bytes is not a multiple of 4 (one uint32 label a point)");
    }
    std::vector<std::uint32_t> labels(bytes.size() / 4);
    std::memcpy(labels.data(), bytes.data(), bytes.size());
    fromLittleEndian(labels.data(), labels.size());
    return labels;
}

void writeKittiBin(const fs::path& file, const PointCloud& cloud) {
    cloud.validate();
    if (cloud.empty()) {
        throw InvalidArgument("cannot write an empty cloud to " + file.string() +
                              ": an empty .bin cannot be told from a failed copy, so readers "
                              "reject it");
    }
    std::vector<float> v(cloud.size() * 4);
    for (std::size_t i = 0; i < cloud.size(); ++i) {
        v[4 * i] = cloud.xyz[i][0];
        v[4 * i + 1] = cloud.xyz[i][1];
        v[4 * i + 2] = cloud.xyz[i][2];
        v[4 * i + 3] = cloud.hasIntensity() ? cloud.intensity[i] : 0.0f;
    }
    fromLittleEndian(reinterpret_cast<std::uint32_t*>(v.data()), v.size());  // self-inverse
    writeStreamAtomically(file, [&](std::ostream& out) {
        out.write(reinterpret_cast<const char*>(v.data()),
                  static_cast<std::streamsize>(v.size() * sizeof(float)));
    });
}

void writeLabelFile(const fs::path& file, const std::vector<std::uint32_t>& labels) {
    if (labels.empty()) {
        throw InvalidArgument("cannot write an empty label file " + file.string() +
                              ": readers reject empty files");
    }
    std::vector<std::uint32_t> v = labels;
    fromLittleEndian(v.data(), v.size());
    writeStreamAtomically(file, [&](std::ostream& out) {
        out.write(reinterpret_cast<const char*>(v.data()),
                  static_cast<std::streamsize>(v.size() * sizeof(std::uint32_t)));
    });
}

PointCloud readNuscenesBin(const fs::path& file, NuscenesAxes axes, const ReadOptions& options) {
    const std::vector<float> v = decodeRecords(file, readFileBytes(file), 5);
    const std::size_t n = v.size() / 5;
    PointCloud cloud;
    cloud.xyz.resize(n);
    cloud.intensity.resize(n);
    cloud.ring.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        const float* r = &v[5 * i];
        if (axes == NuscenesAxes::KittiFrame) {
            // Rotation by -90 deg about z: forward (stored +y) becomes +x, left (-x) becomes +y.
            cloud.xyz[i] = {r[1], -r[0], r[2]};
        } else {
            cloud.xyz[i] = {r[0], r[1], r[2]};
        }
        cloud.intensity[i] = r[3];
        // The ring index is stored as a float; anything outside uint16 is a corrupt record.
        // Points with bad coordinates are dropped below, so their ring is not judged.
        const float ring = finitePoint(cloud.xyz[i]) ? r[4] : 0.0f;
        if (!(ring >= 0.0f && ring <= 65535.0f)) {
            throw IoError(file, "point " + std::to_string(i) + " has ring index " +
                                    std::to_string(ring) + ", outside 0-65535");
        }
        cloud.ring[i] = static_cast<std::uint16_t>(ring);
    }
    dropNonFinite(cloud, file, options);
    return cloud;
}

}  // namespace lidistill::io
