// SPDX-License-Identifier: MIT
#include "core/base/TensorBoardWriter.h"

#include "core/base/Error.h"

#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <system_error>
#include <unistd.h>

namespace lidistill {
namespace fs = std::filesystem;

namespace {
constexpr std::array<std::uint32_t, 256> makeCrcTable() {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        t[i] = c;
    }
    return t;
}
constexpr auto kCrcTable = makeCrcTable();

// TFRecord stores a rotated, offset CRC so that a CRC over data containing CRCs stays strong.
std::uint32_t maskedCrc(const void* data, std::size_t size) {
    const std::uint32_t c = crc32c(data, size);
    return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

// Fixed-width fields are little endian on the wire whatever the host order is.
void putLittleEndian(std::string& out, std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

void putVarint(std::string& out, std::uint64_t v) {
    for (; v >= 0x80; v >>= 7) out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    out.push_back(static_cast<char>(v));
}

// Protobuf field key: field number and wire type (0 varint, 1 fixed64, 2 bytes, 5 fixed32).
void putKey(std::string& out, int field, int wire) {
    putVarint(out, (static_cast<std::uint64_t>(field) << 3) | static_cast<std::uint64_t>(wire));
}

void putBytes(std::string& out, int field, const std::string& bytes) {
    putKey(out, field, 2);
    putVarint(out, bytes.size());
    out += bytes;
}

void putDouble(std::string& out, int field, double v) {
    std::uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    putKey(out, field, 1);
    putLittleEndian(out, bits, 8);
}

void putFloat(std::string& out, int field, float v) {
    std::uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    putKey(out, field, 5);
    putLittleEndian(out, bits, 4);
}

// Event.wall_time and Event.step: the start of every record after the first.
std::string eventHead(double wallTime, long long step) {
    std::string event;
    putDouble(event, 1, wallTime);
    if (step != 0) {  // proto3 leaves a default value out
        putKey(event, 2, 0);
        putVarint(event, static_cast<std::uint64_t>(step));  // negative: 10 bytes
    }
    return event;
}

std::string hostName() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
    std::string h(buf);
    for (char& c : h) {
        if (c == '/') c = '_';  // a host name must not add a folder level
    }
    return h;
}
}  // namespace

std::uint32_t crc32c(const void* data, std::size_t size) {
    const auto* p = static_cast<const unsigned char*>(data);
    std::uint32_t c = 0xFFFFFFFFu;
    for (std::size_t i = 0; i < size; ++i) c = kCrcTable[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

double TensorBoardWriter::now() {
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

TensorBoardWriter::TensorBoardWriter(const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw IoError(dir, "cannot create the TensorBoard log folder: " + ec.message());

    const std::string base = "events.out.tfevents." +
                             std::to_string(static_cast<long long>(std::floor(now()))) + "." +
                             hostName() + "." + std::to_string(::getpid());
    // O_EXCL: an existing event file (same second, same pid) is never appended to or rewritten.
    for (int n = 0;; ++n) {
        m_path = dir / (n == 0 ? base : base + "." + std::to_string(n));
        const int fd =
            ::open(m_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) {
            m_file.reset(::fdopen(fd, "ab"));
            if (!m_file) {
                const int err = errno;
                ::close(fd);
                throw IoError(m_path,
                              std::string("cannot open for writing: ") + std::strerror(err));
            }
            break;
        }
        if (errno != EEXIST || n >= 1000) {
            throw IoError(m_path, std::string("cannot create the TensorBoard event file: ") +
                                      std::strerror(errno));
        }
    }
    std::string event;
    putDouble(event, 1, now());           // Event.wall_time
    putBytes(event, 3, "brain.Event:2");  // Event.file_version
    writeRecord(event);
}

void TensorBoardWriter::write(long long step,
                              const std::vector<std::pair<std::string, double>>& scalars,
                              double wallTime) {
    std::string summary;
    for (const auto& [tag, value] : scalars) {
        if (!std::isfinite(value) || std::fabs(value) > std::numeric_limits<float>::max()) continue;
        std::string v;
        putBytes(v, 1, tag);                        // Summary.Value.tag
        putFloat(v, 2, static_cast<float>(value));  // Summary.Value.simple_value
        putBytes(summary, 1, v);                    // Summary.value (repeated)
    }
    if (summary.empty()) return;
    std::string event = eventHead(wallTime, step);
    putBytes(event, 5, summary);  // Event.summary
    writeRecord(event);
}

void TensorBoardWriter::restartAt(long long step, double wallTime) {
    std::string sessionLog;
    putKey(sessionLog, 1, 0);  // SessionLog.status
    putVarint(sessionLog, 1);  // START
    std::string event = eventHead(wallTime, step);
    putBytes(event, 6, sessionLog);  // Event.session_log
    writeRecord(event);
}

void TensorBoardWriter::writeRecord(const std::string& data) {
    std::string header;
    putLittleEndian(header, data.size(), 8);
    putLittleEndian(header, maskedCrc(header.data(), 8), 4);
    std::string footer;
    putLittleEndian(footer, maskedCrc(data.data(), data.size()), 4);
    const std::string rec = header + data + footer;
    errno = 0;
    if (!m_file || std::fwrite(rec.data(), 1, rec.size(), m_file.get()) != rec.size() ||
        std::fflush(m_file.get()) != 0) {
        const int err = errno;
        m_file.reset();  // a torn record would corrupt anything appended after it
        throw IoError(m_path, std::string("write failed (disk full or I/O error)") +
                                  (err ? std::string(": ") + std::strerror(err) : std::string()));
    }
}

}  // namespace lidistill
