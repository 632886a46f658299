// SPDX-License-Identifier: MIT
// PCD and PLY through PCL. PCL trusts file headers (a PCD whose POINTS exceeds its data makes
// PCDReader read past the mapping), so every file is checked here before PCL sees it.
#include "core/io/CloudFile.h"

#include "core/base/AtomicFile.h"
#include "core/base/Error.h"
#include "core/base/MemoryBudget.h"
#include "core/base/Strings.h"

#if LIDISTILL_WITH_PCL
#include <pcl/PCLPointCloud2.h>
#include <pcl/io/pcd_io.h>
#include <pcl/io/ply_io.h>
#endif

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>

namespace lidistill::io {
namespace fs = std::filesystem;

namespace {

// ----------------------------------------------------------------------------------------
// Shared helpers

bool endsWith(const std::string& s, std::string_view suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// Next line of `text` from `pos` (without '\n' or a trailing '\r'); advances pos past it.
/// Returns false at the end of text.
bool nextLine(std::string_view text, std::size_t& pos, std::string_view& line) {
    if (pos >= text.size()) {
        return false;
    }
    std::size_t end = text.find('\n', pos);
    const bool last = end == std::string_view::npos;
    if (last) {
        end = text.size();
    }
    line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
    }
    pos = last ? text.size() : end + 1;
    return true;
}

bool parseSize(const std::string& token, std::uint64_t& value) {
    const auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
    return ec == std::errc() && ptr == token.data() + token.size();
}

std::size_t tokenCount(std::string_view line) {
    std::size_t n = 0;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
        if (i < line.size()) ++n;
        while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    }
    return n;
}

#if LIDISTILL_WITH_PCL
/// One value of a PCLPointField as double, whatever its stored type.
double readScalar(const std::uint8_t* p, std::uint8_t datatype) {
    switch (datatype) {
        case pcl::PCLPointField::INT8: {
            std::int8_t v;
            std::memcpy(&v, p, 1);
            return v;
        }
        case pcl::PCLPointField::UINT8:
            return *p;
        case pcl::PCLPointField::INT16: {
            std::int16_t v;
            std::memcpy(&v, p, 2);
            return v;
        }
        case pcl::PCLPointField::UINT16: {
            std::uint16_t v;
            std::memcpy(&v, p, 2);
            return v;
        }
        case pcl::PCLPointField::INT32: {
            std::int32_t v;
            std::memcpy(&v, p, 4);
            return v;
        }
        case pcl::PCLPointField::UINT32: {
            std::uint32_t v;
            std::memcpy(&v, p, 4);
            return v;
        }
        case pcl::PCLPointField::FLOAT32: {
            float v;
            std::memcpy(&v, p, 4);
            return v;
        }
        case pcl::PCLPointField::FLOAT64: {
            double v;
            std::memcpy(&v, p, 8);
            return v;
        }
        default:
            return std::numeric_limits<double>::quiet_NaN();
    }
}

const pcl::PCLPointField* findField(const pcl::PCLPointCloud2& blob,
                                    std::initializer_list<const char*> names) {
    for (const char* name : names) {
        for (const auto& f : blob.fields) {
            if (f.name == name) {
                return &f;
            }
        }
    }
    return nullptr;
}

/// Copies x, y, z and the optional fields out of PCL's generic cloud.
PointCloud fromBlob(const fs::path& file, const pcl::PCLPointCloud2& blob) {
    const std::size_t n = static_cast<std::size_t>(blob.width) * blob.height;
    // Exact: PCL's PLY reader can change width and height after sizing its buffer (camera
    // viewport properties), and a mismatch means points would be lost or invented. Compared
    // by division, because n * point_step wraps for viewports of 2^30 x 2^29.
    const std::size_t step = blob.point_step;
    if (step == 0 ? !blob.data.empty()
                  : blob.data.size() % step != 0 || blob.data.size() / step != n) {
        throw IoError(file, "PCL returned " + std::to_string(blob.data.size()) +
                                " bytes of point data for " + std::to_string(n) + " points");
    }
    const pcl::PCLPointField* fx = findField(blob, {"x"});
    const pcl::PCLPointField* fy = findField(blob, {"y"});
    const pcl::PCLPointField* fz = findField(blob, {"z"});
    if (!fx || !fy || !fz) {
        throw IoError(file, "the points have no x, y, z fields");
    }
    const pcl::PCLPointField* fi = findField(blob, {"intensity", "scalar_intensity", "remission"});
    const pcl::PCLPointField* fl = findField(blob, {"label", "scalar_label"});
    const pcl::PCLPointField* fr = findField(blob, {"ring"});
    for (const pcl::PCLPointField* f : {fx, fy, fz, fi, fl, fr}) {
        if (f &&
            (f->datatype < pcl::PCLPointField::INT8 || f->datatype > pcl::PCLPointField::FLOAT64 ||
             f->offset + pcl::getFieldSize(f->datatype) > blob.point_step)) {
            throw IoError(file, "field '" + f->name +
                                    "' has an unsupported type or lies outside "
                                    "the point record");
        }
    }

    PointCloud cloud;
    cloud.xyz.resize(n);
    if (fi) cloud.intensity.resize(n);
    if (fl) cloud.label.resize(n);
    if (fr) cloud.ring.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint8_t* rec = blob.data.data() + i * blob.point_step;
        cloud.xyz[i] = {static_cast<float>(readScalar(rec + fx->offset, fx->datatype)),
                        static_cast<float>(readScalar(rec + fy->offset, fy->datatype)),
                        static_cast<float>(readScalar(rec + fz->offset, fz->datatype))};
        if (fi) {
            cloud.intensity[i] = static_cast<float>(readScalar(rec + fi->offset, fi->datatype));
        }
        if (fl) {
            if (fl->datatype == pcl::PCLPointField::UINT32) {
                std::memcpy(&cloud.label[i], rec + fl->offset, 4);  // keep all 32 bits exact
            } else {
                const double v = readScalar(rec + fl->offset, fl->datatype);
                cloud.label[i] = v >= 0.0 && v <= 4294967295.0 ? static_cast<std::uint32_t>(v) : 0;
            }
        }
        if (fr) {
            const double v = readScalar(rec + fr->offset, fr->datatype);
            cloud.ring[i] = v >= 0.0 && v <= 65535.0 ? static_cast<std::uint16_t>(v) : 0;
        }
    }
    return cloud;
}

/// Packs a PointCloud into PCL's generic cloud: float x, y, z (+ float intensity, uint32 label,
/// uint16 ring), one record a point.
pcl::PCLPointCloud2 toBlob(const PointCloud& cloud) {
    cloud.validate();
    pcl::PCLPointCloud2 blob;
    auto addField = [&](const char* name, std::uint8_t type) {
        pcl::PCLPointField f;
        f.name = name;
        f.offset = blob.point_step;
        f.datatype = type;
        f.count = 1;
        blob.fields.push_back(f);
        blob.point_step += static_cast<std::uint32_t>(pcl::getFieldSize(type));
    };
    addField("x", pcl::PCLPointField::FLOAT32);
    addField("y", pcl::PCLPointField::FLOAT32);
    addField("z", pcl::PCLPointField::FLOAT32);
    if (cloud.hasIntensity()) addField("intensity", pcl::PCLPointField::FLOAT32);
    if (cloud.hasLabels()) addField("label", pcl::PCLPointField::UINT32);
    if (cloud.hasRing()) addField("ring", pcl::PCLPointField::UINT16);

    const std::size_t n = cloud.size();
    blob.width = static_cast<std::uint32_t>(n);
    blob.height = 1;
    blob.is_dense = true;
    blob.is_bigendian = std::endian::native == std::endian::big;
    blob.row_step = blob.point_step * blob.width;
    blob.data.resize(n * blob.point_step);
    for (std::size_t i = 0; i < n; ++i) {
        std::uint8_t* rec = blob.data.data() + i * blob.point_step;
        std::memcpy(rec, cloud.xyz[i].data(), 12);
        std::size_t off = 12;
        if (cloud.hasIntensity()) {
            std::memcpy(rec + off, &cloud.intensity[i], 4);
            off += 4;
        }
        if (cloud.hasLabels()) {
            std::memcpy(rec + off, &cloud.label[i], 4);
            off += 4;
        }
        if (cloud.hasRing()) {
            std::memcpy(rec + off, &cloud.ring[i], 2);
        }
    }
    return blob;
}
#endif  // LIDISTILL_WITH_PCL

// ----------------------------------------------------------------------------------------
// PCD header check

struct PcdHeader {
    std::vector<std::string> fields;
    std::vector<std::uint64_t> sizes;
    std::vector<char> types;
    std::vector<std::uint64_t> counts;
    std::uint64_t width = 0;
    std::uint64_t height = 0;
    std::uint64_t points = 0;
    std::string data;
    std::size_t dataOffset = 0;  // first byte after the DATA line
    std::size_t pointSize = 0;   // bytes a point in binary encodings
    std::size_t valuesPerPoint = 0;
};

PcdHeader checkPcd(const fs::path& file, const std::vector<char>& bytes) {
    const std::string_view text(bytes.data(), bytes.size());
    PcdHeader h;
    bool haveWidth = false, haveHeight = false, havePoints = false;
    std::size_t pos = 0;
    std::string_view line;
    std::size_t lineNo = 0;
    while (h.data.empty()) {
        const std::size_t lineStart = pos;
        if (!nextLine(text, pos, line)) {
            throw IoError(file, "PCD header has no DATA line (not a PCD file, or truncated)");
        }
        ++lineNo;
        if (line.size() > 4096) {
            throw IoError(file, "line " + std::to_string(lineNo) +
                                    " of the PCD header is implausibly long (not a PCD file?)");
        }
        // PCL 1.13 splits header words on blanks, tabs and CRs only, but reads the keyword
        // with a stream that also splits on vertical tabs and form feeds: "DATA\fascii" is a
        // DATA line of no words to it, and it throws std::out_of_range (found by CI's fuzzing).
        if (line.find_first_of("\v\f") != std::string_view::npos) {
            throw IoError(file, "PCD header line " + std::to_string(lineNo) +
                                    " holds a vertical tab or form feed (PCL cannot read such a "
                                    "header)");
        }
        const auto tokens = splitWhitespace(line);
        if (tokens.empty() && text[lineStart] != '\n') {
            // PCL 1.13's PCDReader dereferences null on a header line of only blanks or a
            // lone '\r' (found by fuzzing); an empty line it skips.
            throw IoError(file, "PCD header line " + std::to_string(lineNo) +
                                    " holds only blanks (PCL cannot read such a header)");
        }
        if (tokens.empty() || tokens[0][0] == '#') {
            continue;
        }
        const std::string key = tokens[0];
        const std::vector<std::string> args(tokens.begin() + 1, tokens.end());
        auto bad = [&](const std::string& what) {
            return IoError(file,
                           "PCD header line " + std::to_string(lineNo) + " (" + key + "): " + what);
        };
        auto sizes = [&](std::vector<std::uint64_t>& out) {
            for (const auto& a : args) {
                std::uint64_t v = 0;
                if (!parseSize(a, v)) throw bad("'" + a + "' is not a non-negative integer");
                out.push_back(v);
            }
        };
        auto one = [&](std::uint64_t& out) {
            if (args.size() != 1 || !parseSize(args[0], out)) {
                throw bad("expected one non-negative integer");
            }
        };
        if (key == "VERSION") {
            continue;
        } else if (key == "FIELDS" || key == "COLUMNS") {
            h.fields = args;
        } else if (key == "SIZE") {
            sizes(h.sizes);
        } else if (key == "TYPE") {
            for (const auto& a : args) {
                if (a.size() != 1 || (a[0] != 'I' && a[0] != 'U' && a[0] != 'F')) {
                    throw bad("type '" + a + "' is not I, U or F");
                }
                h.types.push_back(a[0]);
            }
        } else if (key == "COUNT") {
            sizes(h.counts);
        } else if (key == "WIDTH") {
            one(h.width);
            haveWidth = true;
        } else if (key == "HEIGHT") {
            one(h.height);
            haveHeight = true;
        } else if (key == "POINTS") {
            one(h.points);
            havePoints = true;
        } else if (key == "VIEWPOINT") {
            continue;
        } else if (key == "DATA") {
            if (args.size() != 1) throw bad("expected ascii, binary or binary_compressed");
            h.data = toLower(args[0]);
            if (h.data != "ascii" && h.data != "binary" && h.data != "binary_compressed") {
                throw bad("unknown encoding '" + args[0] + "'");
            }
        } else {
            throw bad("unknown header keyword (not a PCD file?)");
        }
    }
    h.dataOffset = pos;
    // PCL 1.13 goes on reading header lines after DATA (skipping empty and '#' lines) while
    // the first word starts with a keyword, so data that begins "COLUMNS" re-declares zero
    // fields and crashes it (found by fuzzing). Such data is refused, in every encoding.
    for (std::size_t p = pos; nextLine(text, p, line);) {
        const auto words = splitWhitespace(line);
        if (line.empty() || (!words.empty() && words[0][0] == '#')) continue;
        for (const char* keyword : {"VERSION", "FIELDS", "COLUMNS", "SIZE", "TYPE", "COUNT",
                                    "WIDTH", "HEIGHT", "VIEWPOINT", "POINTS", "DATA"}) {
            if (!words.empty() && words[0].rfind(keyword, 0) == 0) {
                throw IoError(file, std::string("the data after the DATA line begins with '") +
                                        keyword + "', which PCL would read as more header");
            }
        }
        break;
    }

    if (h.fields.empty()) throw IoError(file, "PCD header has no FIELDS line");
    const std::size_t nf = h.fields.size();
    if (h.sizes.size() != nf) {
        throw IoError(file, "PCD header lists " + std::to_string(nf) + " FIELDS but " +
                                std::to_string(h.sizes.size()) + " SIZE entries");
    }
    if (h.types.size() != nf) {
        throw IoError(file, "PCD header lists " + std::to_string(nf) + " FIELDS but " +
                                std::to_string(h.types.size()) + " TYPE entries");
    }
    if (h.counts.empty()) {
        h.counts.assign(nf, 1);
    } else if (h.counts.size() != nf) {
        throw IoError(file, "PCD header lists " + std::to_string(nf) + " FIELDS but " +
                                std::to_string(h.counts.size()) + " COUNT entries");
    }
    for (std::size_t i = 0; i < nf; ++i) {
        const auto s = h.sizes[i];
        const bool ok = (h.types[i] == 'F') ? (s == 4 || s == 8) : (s == 1 || s == 2 || s == 4);
        if (!ok) {
            throw IoError(file, "PCD field '" + h.fields[i] + "' has type " + h.types[i] +
                                    " with unsupported size " + std::to_string(s));
        }
        if (h.counts[i] == 0 || h.counts[i] > 100000) {
            throw IoError(file, "PCD field '" + h.fields[i] + "' has implausible COUNT " +
                                    std::to_string(h.counts[i]));
        }
        h.pointSize += s * h.counts[i];
        h.valuesPerPoint += h.counts[i];
    }
    for (const char* axis : {"x", "y", "z"}) {
        bool found = false;
        for (std::size_t i = 0; i < nf; ++i) {
            if (h.fields[i] == axis) {
                found = true;
                if (h.counts[i] != 1) {
                    throw IoError(file, std::string("PCD field '") + axis + "' has COUNT " +
                                            std::to_string(h.counts[i]) + ", expected 1");
                }
            }
        }
        if (!found) {
            throw IoError(file, std::string("PCD header has no '") + axis + "' field");
        }
    }
    if (!haveWidth || !haveHeight) {
        throw IoError(file, "PCD header lacks WIDTH or HEIGHT");
    }
    const std::uint64_t wh = h.width * h.height;
    if (h.width != 0 && wh / h.width != h.height) {
        throw IoError(file, "PCD header WIDTH * HEIGHT overflows");
    }
    if (!havePoints) {
        h.points = wh;
    } else if (h.points != wh) {
        throw IoError(file, "PCD header says POINTS " + std::to_string(h.points) + " but WIDTH " +
                                std::to_string(h.width) + " * HEIGHT " + std::to_string(h.height) +
                                " = " + std::to_string(wh));
    }

    // PCL's buffer (POINTS x the point size) and our cloud (22 bytes a point at most).
    checkMemoryBudget(file, budgetBytes(h.points, h.pointSize + 22),
                      "the PCD's " + std::to_string(h.points) + " points");

    const std::size_t available = bytes.size() - h.dataOffset;
    if (h.data == "binary") {
        const std::uint64_t need = h.points * h.pointSize;
        if (h.pointSize != 0 && need / h.pointSize != h.points) {
            throw IoError(file, "PCD header POINTS is implausibly large");
        }
        if (available < need) {
            throw IoError(file, "binary PCD data is truncated: " + std::to_string(h.points) +
                                    " points of " + std::to_string(h.pointSize) + " bytes need " +
                                    std::to_string(need) + " bytes, the file holds " +
                                    std::to_string(available));
        }
    } else if (h.data == "binary_compressed") {
        if (available < 8) {
            throw IoError(file, "binary_compressed PCD data is truncated before its size words");
        }
        std::uint32_t compressed = 0, uncompressed = 0;
        std::memcpy(&compressed, bytes.data() + h.dataOffset, 4);
        std::memcpy(&uncompressed, bytes.data() + h.dataOffset + 4, 4);
        if (compressed > available - 8) {
            throw IoError(file, "binary_compressed PCD data is truncated: " +
                                    std::to_string(compressed) + " compressed bytes announced, " +
                                    std::to_string(available - 8) + " present");
        }
        if (uncompressed != h.points * h.pointSize) {
            throw IoError(file, "binary_compressed PCD announces " + std::to_string(uncompressed) +
                                    " uncompressed bytes but " + std::to_string(h.points) +
                                    " points of " + std::to_string(h.pointSize) + " bytes need " +
                                    std::to_string(h.points * h.pointSize));
        }
        if (h.points > 0 && compressed == 0) {
            throw IoError(file, "binary_compressed PCD holds no compressed data");
        }
        // LZF expands at most 264 bytes from a 3-byte back reference; a larger ratio is a
        // lying header, refused before PCL allocates the announced size.
        if (uncompressed / 88 > compressed) {
            throw IoError(file, "binary_compressed PCD announces " + std::to_string(uncompressed) +
                                    " bytes from " + std::to_string(compressed) +
                                    " compressed ones, more than LZF can expand to");
        }
    } else {
        std::uint64_t lines = 0;
        std::size_t p = h.dataOffset;
        while (nextLine(text, p, line)) {
            const std::size_t t = tokenCount(line);
            if (t == 0) continue;
            ++lines;
            // PCL splits the values on blanks, tabs and CRs only: they would be misread.
            if (lines <= h.points && line.find_first_of("\v\f") != std::string_view::npos) {
                throw IoError(file, "ascii PCD point " + std::to_string(lines - 1) +
                                        " holds a vertical tab or form feed");
            }
            if (lines <= h.points && t != h.valuesPerPoint) {
                throw IoError(file, "ascii PCD point " + std::to_string(lines - 1) + " has " +
                                        std::to_string(t) + " values, the header declares " +
                                        std::to_string(h.valuesPerPoint));
            }
        }
        if (lines < h.points) {
            throw IoError(file, "ascii PCD data is truncated: header says POINTS " +
                                    std::to_string(h.points) + ", the file holds " +
                                    std::to_string(lines) + " point lines");
        }
    }
    return h;
}

// ----------------------------------------------------------------------------------------
// PLY header check

struct PlyElement {
    std::string name;
    std::uint64_t count = 0;
    std::size_t fixedSize = 0;  // bytes a record, list properties counted with zero entries
    bool hasList = false;
    bool ucharRed = false;  // a uchar red / diffuse_red property came before (PCL's rgb field)
    std::vector<std::string> properties;
};

std::size_t plyTypeSize(const std::string& t) {
    if (t == "char" || t == "uchar" || t == "int8" || t == "uint8") return 1;
    if (t == "short" || t == "ushort" || t == "int16" || t == "uint16") return 2;
    if (t == "int" || t == "uint" || t == "int32" || t == "uint32" || t == "float" ||
        t == "float32")
        return 4;
    if (t == "double" || t == "float64") return 8;
    return 0;
}

void checkPly(const fs::path& file, const std::vector<char>& bytes) {
    const std::string_view text(bytes.data(), bytes.size());
    std::size_t pos = 0;
    std::string_view line;
    if (!nextLine(text, pos, line) || line != "ply") {
        throw IoError(file, "not a PLY file (the first line is not 'ply')");
    }
    std::string format;
    std::vector<PlyElement> elements;
    std::size_t lineNo = 1;
    bool ended = false;
    bool haveVertex = false;
    std::uint32_t pclWidth = 0, pclHeight = 0;
    while (!ended) {
        if (!nextLine(text, pos, line)) {
            throw IoError(file, "PLY header has no end_header line (truncated?)");
        }
        ++lineNo;
        if (line.size() > 4096) {
            throw IoError(file,
                          "PLY header line " + std::to_string(lineNo) + " is implausibly long");
        }
        const auto t = splitWhitespace(line);
        auto bad = [&](const std::string& what) {
            return IoError(file, "PLY header line " + std::to_string(lineNo) + ": " + what);
        };
        if (t.empty() || t[0] == "comment") {
            continue;
        }
        // PCL 1.13 splits a keyword line on blanks and asserts that the first piece is the
        // keyword ("obj_info"): a leading blank gives an empty first piece and aborts.
        if (line.front() == ' ' || line.front() == '\t') {
            throw bad("begins with white space (PCL's PLY reader cannot take it)");
        }
        if (t[0] == "obj_info") {
            // PCL sizes its point buffer from obj_info num_cols x num_rows (parsed with atoi)
            // and asserts when the vertices do not fit, so replay its rule here.
            if (t.size() >= 3 && (t[1] == "num_cols" || t[1] == "num_rows")) {
                const auto v = static_cast<std::uint32_t>(
                    static_cast<int>(std::strtoll(t[2].c_str(), nullptr, 10)));
                (t[1] == "num_cols" ? pclWidth : pclHeight) = v;
            }
            continue;
        }
        if (t[0] == "end_header") {
            ended = true;
        } else if (t[0] == "format") {
            if (t.size() != 3 || (t[1] != "ascii" && t[1] != "binary_little_endian" &&
                                  t[1] != "binary_big_endian")) {
                throw bad("unknown format '" + std::string(line) + "'");
            }
            format = t[1];
        } else if (t[0] == "element") {
            PlyElement e;
            if (t.size() != 3 || !parseSize(t[2], e.count)) {
                throw bad("expected 'element NAME COUNT'");
            }
            e.name = t[1];
            if (e.name == "vertex") {
                if (haveVertex) throw bad("a second 'vertex' element");
                haveVertex = true;
                if (pclWidth == 0 || pclHeight == 0) {
                    pclWidth = static_cast<std::uint32_t>(e.count);
                    pclHeight = 1;
                }
            }
            elements.push_back(e);
        } else if (t[0] == "property") {
            if (elements.empty()) throw bad("property before any element");
            PlyElement& e = elements.back();
            if (t.size() == 5 && t[1] == "list") {
                const std::size_t cs = plyTypeSize(t[2]);
                if (cs == 0 || plyTypeSize(t[3]) == 0) throw bad("unknown list type");
                if (e.name == "vertex") {
                    // Point clouds never need them, and PCL mis-sizes its buffer for them.
                    throw bad("list property '" + t[4] + "' in the vertex element");
                }
                e.fixedSize += cs;
                e.hasList = true;
                e.properties.push_back(t[4]);
            } else if (t.size() == 3) {
                const std::size_t s = plyTypeSize(t[1]);
                if (s == 0) throw bad("unknown property type '" + t[1] + "'");
                const bool haveRed =
                    std::find(e.properties.begin(), e.properties.end(), "red") !=
                        e.properties.end() ||
                    std::find(e.properties.begin(), e.properties.end(), "diffuse_red") !=
                        e.properties.end();
                if (e.name == "vertex" && t[2] == "alpha" && !haveRed) {
                    throw bad("vertex property 'alpha' without a preceding 'red'");  // PCL asserts
                }
                // PCL packs uchar colour components into the rgb field that 'red' creates; a
                // uchar green or blue without it makes PCL assert (found by fuzzing).
                const bool colour = t[2] == "green" || t[2] == "blue" ||
                                    t[2] == "diffuse_green" || t[2] == "diffuse_blue";
                const bool uchar = t[1] == "uchar" || t[1] == "uint8";
                if (e.name == "vertex" && colour && uchar && !e.ucharRed) {
                    throw bad("vertex property '" + t[2] + "' without a preceding uchar 'red'");
                }
                if (e.name == "vertex" && (t[2] == "red" || t[2] == "diffuse_red") && uchar) {
                    e.ucharRed = true;
                }
                e.fixedSize += s;
                e.properties.push_back(t[2]);
            } else {
                throw bad("malformed property line");
            }
        } else {
            throw bad("unknown header keyword '" + t[0] + "'");
        }
    }
    if (format.empty()) throw IoError(file, "PLY header has no format line");

    const PlyElement* vertex = nullptr;
    for (const auto& e : elements) {
        if (e.name == "vertex") vertex = &e;
    }
    if (!vertex) throw IoError(file, "PLY file has no 'vertex' element");
    for (const char* axis : {"x", "y", "z"}) {
        bool found = false;
        for (const auto& p : vertex->properties) found = found || p == axis;
        if (!found) {
            throw IoError(file, std::string("PLY vertex element has no '") + axis + "' property");
        }
    }

    if (static_cast<std::uint64_t>(pclWidth) * pclHeight != vertex->count) {
        throw IoError(file, "PLY header obj_info num_cols " + std::to_string(pclWidth) +
                                " x num_rows " + std::to_string(pclHeight) +
                                " disagrees with element vertex " + std::to_string(vertex->count));
    }

    checkMemoryBudget(file, budgetBytes(vertex->count, vertex->fixedSize + 22),
                      "the PLY's " + std::to_string(vertex->count) + " vertices");

    const std::size_t available = bytes.size() - pos;
    if (format != "ascii") {
        // Lists may hold more than zero entries, so this is a lower bound; enough to catch a
        // lying vertex count, which is what would make PCL read past the data.
        std::uint64_t need = 0;
        for (const auto& e : elements) {
            // Records of no bytes take no room to check against the file, but PCL still loops
            // over each one: 7e11 of them hang it (found by fuzzing).
            if (e.count > 0 && e.properties.empty()) {
                throw IoError(file, "PLY element '" + e.name + "' declares " +
                                        std::to_string(e.count) + " records without properties");
            }
            const std::uint64_t add = e.count * e.fixedSize;
            if (e.fixedSize != 0 && add / e.fixedSize != e.count) {
                throw IoError(file, "PLY element '" + e.name + "' count is implausibly large");
            }
            need += add;
        }
        if (available < need) {
            throw IoError(file, "binary PLY data is truncated: element vertex " +
                                    std::to_string(vertex->count) +
                                    " (and the other elements) need at least " +
                                    std::to_string(need) + " bytes, the file holds " +
                                    std::to_string(available));
        }
        return;
    }
    std::uint64_t records = 0;
    std::uint64_t expected = 0;
    for (const auto& e : elements) expected += e.count;
    const bool vertexFirst = &elements.front() == vertex && !vertex->hasList;
    std::size_t p = pos;
    while (nextLine(text, p, line)) {
        const std::size_t t = tokenCount(line);
        if (t == 0) continue;
        if (vertexFirst && records < vertex->count && t != vertex->properties.size()) {
            throw IoError(file, "ascii PLY vertex " + std::to_string(records) + " has " +
                                    std::to_string(t) + " values, the header declares " +
                                    std::to_string(vertex->properties.size()));
        }
        ++records;
    }
    if (records < expected) {
        throw IoError(file, "ascii PLY data is truncated: the header declares " +
                                std::to_string(expected) + " records (element vertex " +
                                std::to_string(vertex->count) + "), the file holds " +
                                std::to_string(records) + " lines");
    }
}

// ----------------------------------------------------------------------------------------
// PLY writer for what PCL 1.13 gets wrong: its ASCII writer ignores the precision argument
// (6 significant digits, so coordinates change), it writes binary PLY in host byte order only,
// and it refuses clouds without points.

template <typename T>
void putBinary(std::string& out, T value, bool bigEndian) {
    char b[sizeof(T)];
    std::memcpy(b, &value, sizeof(T));
    if (bigEndian != (std::endian::native == std::endian::big)) {
        for (std::size_t i = 0; i < sizeof(T); ++i) out.push_back(b[sizeof(T) - 1 - i]);
    } else {
        out.append(b, sizeof(T));
    }
}

template <typename T>
void putText(std::string& out, T value, bool first) {
    char buf[32];
    const auto res = std::to_chars(buf, buf + sizeof(buf), value);  // shortest exact form
    if (!first) out.push_back(' ');
    out.append(buf, res.ptr);
}

void writePlyOwn(const fs::path& file, const PointCloud& cloud, PlyEncoding encoding) {
    cloud.validate();
    const bool ascii = encoding == PlyEncoding::Ascii;
    const bool big = encoding == PlyEncoding::BinaryBigEndian;
    std::string out = std::string("ply\nformat ") +
                      (ascii ? "ascii"
                       : big ? "binary_big_endian"
                             : "binary_little_endian") +
                      " 1.0\ncomment written by lidistill\n";
    out += "element vertex " + std::to_string(cloud.size()) + "\n";
    out += "property float x\nproperty float y\nproperty float z\n";
    if (cloud.hasIntensity()) out += "property float intensity\n";
    if (cloud.hasLabels()) out += "property uint label\n";
    if (cloud.hasRing()) out += "property ushort ring\n";
    out += "end_header\n";
    out.reserve(out.size() + cloud.size() * (ascii ? 48 : 22));
    for (std::size_t i = 0; i < cloud.size(); ++i) {
        if (ascii) {
            putText(out, cloud.xyz[i][0], true);
            putText(out, cloud.xyz[i][1], false);
            putText(out, cloud.xyz[i][2], false);
            if (cloud.hasIntensity()) putText(out, cloud.intensity[i], false);
            if (cloud.hasLabels()) putText(out, cloud.label[i], false);
            if (cloud.hasRing()) putText(out, cloud.ring[i], false);
            out.push_back('\n');
        } else {
            for (float c : cloud.xyz[i]) putBinary(out, c, big);
            if (cloud.hasIntensity()) putBinary(out, cloud.intensity[i], big);
            if (cloud.hasLabels()) putBinary(out, cloud.label[i], big);
            if (cloud.hasRing()) putBinary(out, cloud.ring[i], big);
        }
    }
    writeStreamAtomically(file, [&](std::ostream& os) {
        os.write(out.data(), static_cast<std::streamsize>(out.size()));
    });
}

#if LIDISTILL_WITH_PCL
/// PCL's writers do not always report a failed write (the ASCII PCD writer never checks its
/// stream), so the temporary file is checked like any input before it replaces the target.
template <typename Check>
void verifyWritten(const fs::path& target, const fs::path& tmp, Check check) {
    try {
        check(target, readFileBytes(tmp));
    } catch (const IoError& e) {
        throw IoError(target, "the file PCL wrote is incomplete (disk full?): " + e.problem());
    }
}
#endif  // LIDISTILL_WITH_PCL

}  // namespace

// ----------------------------------------------------------------------------------------

#if LIDISTILL_WITH_PCL

PointCloud readPcd(const fs::path& file, const ReadOptions& options) {
    const PcdHeader header = checkPcd(file, readFileBytes(file));
    pcl::PCLPointCloud2 blob;
    if (header.points > 0) {
        pcl::PCDReader reader;
        Eigen::Vector4f origin;
        Eigen::Quaternionf orientation;
        int version = 0;
        if (reader.read(file.string(), blob, origin, orientation, version) < 0) {
            throw IoError(file,
                          "PCL could not read the PCD data (corrupt " + header.data + " section)");
        }
    }
    PointCloud cloud = header.points > 0 ? fromBlob(file, blob) : PointCloud{};
    dropNonFinite(cloud, file, options);
    return cloud;
}

void writePcd(const fs::path& file, const PointCloud& cloud, PcdEncoding encoding) {
    const pcl::PCLPointCloud2 blob = toBlob(cloud);
    writeViaTemp(file, [&](const fs::path& tmp) {
        pcl::PCDWriter writer;
        int rc = 0;
        switch (encoding) {
            case PcdEncoding::Ascii:
                // 9 significant digits reproduce every float exactly.
                rc = writer.writeASCII(tmp.string(), blob, Eigen::Vector4f::Zero(),
                                       Eigen::Quaternionf::Identity(), 9);
                break;
            case PcdEncoding::Binary:
                rc = writer.writeBinary(tmp.string(), blob);
                break;
            case PcdEncoding::BinaryCompressed:
                rc = writer.writeBinaryCompressed(tmp.string(), blob);
                break;
        }
        if (rc < 0) {
            throw IoError(file,
                          "PCL failed to write the PCD file (folder not writable or disk full?)");
        }
        verifyWritten(file, tmp, checkPcd);
    });
}

PointCloud readPly(const fs::path& file, const ReadOptions& options) {
    checkPly(file, readFileBytes(file));
    pcl::PCLPointCloud2 blob;
    pcl::PLYReader reader;
    Eigen::Vector4f origin;
    Eigen::Quaternionf orientation;
    int version = 0;
    if (reader.read(file.string(), blob, origin, orientation, version) < 0) {
        throw IoError(file, "PCL could not read the PLY data (corrupt vertex section)");
    }
    PointCloud cloud = fromBlob(file, blob);
    dropNonFinite(cloud, file, options);
    return cloud;
}

void writePly(const fs::path& file, const PointCloud& cloud, PlyEncoding encoding) {
    const bool pclHostOrder = (encoding == PlyEncoding::BinaryLittleEndian) ==
                              (std::endian::native == std::endian::little);
    // PCL also refuses to write a binary PLY without points.
    if (encoding == PlyEncoding::Ascii || !pclHostOrder || cloud.empty()) {
        writePlyOwn(file, cloud, encoding);
        return;
    }
    const pcl::PCLPointCloud2 blob = toBlob(cloud);
    writeViaTemp(file, [&](const fs::path& tmp) {
        pcl::PLYWriter writer;
        const int rc = writer.writeBinary(tmp.string(), blob, Eigen::Vector4f::Zero(),
                                          Eigen::Quaternionf::Identity(), false);
        if (rc < 0) {
            throw IoError(file,
                          "PCL failed to write the PLY file (folder not writable or disk full?)");
        }
        verifyWritten(file, tmp, checkPly);
    });
}

#else  // !LIDISTILL_WITH_PCL

// A build for a headless GPU server may leave PCL out (README: server build). The .bin formats,
// PLY writing (our own writer) and the header checks still work; reading PCD/PLY data and
// writing PCD need PCL, so they say so, naming the file, after the header check.
namespace {
const char* const kNoPcl =
    "this lidistill was built without PCL (LIDISTILL_WITH_PCL=OFF), which it needs for this "
    "format; use a .bin scan or a build with PCL";
}  // namespace

PointCloud readPcd(const fs::path& file, const ReadOptions&) {
    checkPcd(file, readFileBytes(file));
    throw IoError(file, std::string("cannot read PCD data: ") + kNoPcl);
}

void writePcd(const fs::path& file, const PointCloud& cloud, PcdEncoding) {
    cloud.validate();
    throw IoError(file, std::string("cannot write PCD: ") + kNoPcl);
}

PointCloud readPly(const fs::path& file, const ReadOptions&) {
    checkPly(file, readFileBytes(file));
    throw IoError(file, std::string("cannot read PLY data: ") + kNoPcl);
}

void writePly(const fs::path& file, const PointCloud& cloud, PlyEncoding encoding) {
    writePlyOwn(file, cloud, encoding);
}

#endif  // LIDISTILL_WITH_PCL

CloudFormat formatFromPath(const fs::path& file) {
    const std::string name = toLower(file.filename().string());
    if (endsWith(name, ".pcd.bin")) return CloudFormat::NuscenesBin;
    if (endsWith(name, ".bin")) return CloudFormat::KittiBin;
    if (endsWith(name, ".pcd")) return CloudFormat::Pcd;
    if (endsWith(name, ".ply")) return CloudFormat::Ply;
    throw IoError(file,
                  "unsupported point cloud file type (expected .bin, .pcd.bin, .pcd or .ply)");
}

PointCloud readCloud(const fs::path& file, const ReadOptions& options, NuscenesAxes nuscenesAxes) {
    switch (formatFromPath(file)) {
        case CloudFormat::KittiBin:
            return readKittiBin(file, options);
        case CloudFormat::NuscenesBin:
            return readNuscenesBin(file, nuscenesAxes, options);
        case CloudFormat::Pcd:
            return readPcd(file, options);
        case CloudFormat::Ply:
            return readPly(file, options);
    }
    throw IoError(file, "unsupported point cloud file type");
}

void writeCloud(const fs::path& file, const PointCloud& cloud) {
    switch (formatFromPath(file)) {
        case CloudFormat::KittiBin:
            writeKittiBin(file, cloud);
            return;
        case CloudFormat::NuscenesBin:
            throw IoError(file,
                          "writing nuScenes .pcd.bin sweeps is not supported; use .bin, "
                          ".pcd or .ply");
        case CloudFormat::Pcd:
            writePcd(file, cloud);
            return;
        case CloudFormat::Ply:
            writePly(file, cloud);
            return;
    }
}

}  // namespace lidistill::io
