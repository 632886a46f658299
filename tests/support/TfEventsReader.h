#pragma once
// SPDX-License-Identifier: MIT
// Reads TensorBoard event files for tests.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace lidistill::test::tfevents {
namespace fs = std::filesystem;

// An independent reader, written from the format description (TFRecord framing, event.proto and
// summary.proto field numbers) and sharing no code with the writer: a bitwise CRC instead of the
// writer's table, and a generic protobuf field walker.

inline std::uint32_t bitwiseCrc32c(const std::string& bytes) {
    std::uint32_t crc = 0xFFFFFFFFu;
    for (unsigned char b : bytes) {
        crc ^= b;
        for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
    }
    return ~crc;
}

inline std::uint32_t masked(const std::string& bytes) {
    const std::uint32_t c = bitwiseCrc32c(bytes);
    return static_cast<std::uint32_t>(((c >> 15) | (c << 17)) + 0xa282ead8u);
}

inline std::uint64_t readLe(const std::string& s, std::size_t at, int bytes) {
    std::uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s.at(at + i));
    return v;
}

/// Splits a TFRecord file into record payloads; throws std::runtime_error on any CRC mismatch or
/// truncation, so a test that expects an error fails if the reader did not notice.
inline std::vector<std::string> readRecords(const std::string& file) {
    std::vector<std::string> out;
    std::size_t off = 0;
    while (off < file.size()) {
        if (file.size() - off < 16) throw std::runtime_error("truncated record");
        const std::uint64_t len = readLe(file, off, 8);
        if (static_cast<std::uint32_t>(readLe(file, off + 8, 4)) != masked(file.substr(off, 8))) {
            throw std::runtime_error("length crc mismatch");
        }
        if (len > file.size() - off - 16) throw std::runtime_error("truncated record");
        std::string data = file.substr(off + 12, len);
        if (static_cast<std::uint32_t>(readLe(file, off + 12 + len, 4)) != masked(data)) {
            throw std::runtime_error("data crc mismatch");
        }
        out.push_back(std::move(data));
        off += 16 + len;
    }
    return out;
}

struct Field {
    int number = 0;
    int wire = 0;
    std::uint64_t scalar = 0;  // wire types 0, 1, 5
    std::string bytes;         // wire type 2
};

inline std::uint64_t readVarint(const std::string& s, std::size_t& at) {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        const auto b = static_cast<unsigned char>(s.at(at++));
        v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
        if (!(b & 0x80)) return v;
    }
    throw std::runtime_error("varint too long");
}

inline std::vector<Field> parseMessage(const std::string& s) {
    std::vector<Field> fields;
    std::size_t at = 0;
    while (at < s.size()) {
        const std::uint64_t key = readVarint(s, at);
        Field f;
        f.number = static_cast<int>(key >> 3);
        f.wire = static_cast<int>(key & 7);
        switch (f.wire) {
            case 0:
                f.scalar = readVarint(s, at);
                break;
            case 1:
                f.scalar = readLe(s, at, 8);
                at += 8;
                break;
            case 5:
                f.scalar = readLe(s, at, 4);
                at += 4;
                break;
            case 2: {
                const std::uint64_t n = readVarint(s, at);
                if (n > s.size() - at) throw std::runtime_error("field runs past the message");
                f.bytes = s.substr(at, n);
                at += n;
                break;
            }
            default:
                throw std::runtime_error("unexpected wire type " + std::to_string(f.wire));
        }
        if (at > s.size()) throw std::runtime_error("field runs past the message");
        fields.push_back(std::move(f));
    }
    return fields;
}

struct Scalar {
    std::string tag;
    float value = 0;
};
struct Event {
    double wallTime = 0;
    long long step = 0;
    std::optional<std::string> fileVersion;
    std::optional<int> sessionStatus;  ///< SessionLog.status (1: START)
    std::vector<Scalar> values;
};

inline Event decodeEvent(const std::string& data) {
    Event e;
    for (const Field& f : parseMessage(data)) {
        if (f.number == 1 && f.wire == 1) {
            std::memcpy(&e.wallTime, &f.scalar, 8);
        } else if (f.number == 2 && f.wire == 0) {
            e.step = static_cast<long long>(f.scalar);
        } else if (f.number == 3 && f.wire == 2) {
            e.fileVersion = f.bytes;
        } else if (f.number == 6 && f.wire == 2) {
            for (const Field& g : parseMessage(f.bytes)) {
                if (g.number == 1 && g.wire == 0) e.sessionStatus = static_cast<int>(g.scalar);
            }
        } else if (f.number == 5 && f.wire == 2) {
            for (const Field& v : parseMessage(f.bytes)) {
                if (v.number != 1 || v.wire != 2) throw std::runtime_error("bad Summary field");
                Scalar sc;
                for (const Field& g : parseMessage(v.bytes)) {
                    if (g.number == 1 && g.wire == 2) {
                        sc.tag = g.bytes;
                    } else if (g.number == 2 && g.wire == 5) {
                        const auto bits = static_cast<std::uint32_t>(g.scalar);
                        std::memcpy(&sc.value, &bits, 4);
                    } else {
                        throw std::runtime_error("bad Summary.Value field");
                    }
                }
                e.values.push_back(sc);
            }
        } else {
            throw std::runtime_error("unexpected Event field " + std::to_string(f.number));
        }
    }
    return e;
}

inline std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Every event of every event file in `dir`, files in name order (TensorBoard's order).
inline std::vector<Event> readFolder(const fs::path& dir) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.path().filename().string().find("tfevents") != std::string::npos) {
            files.push_back(e.path());
        }
    }
    std::sort(files.begin(), files.end());
    std::vector<Event> out;
    for (const auto& f : files) {
        for (const auto& r : readRecords(slurp(f))) out.push_back(decodeEvent(r));
    }
    return out;
}

}  // namespace lidistill::test::tfevents
