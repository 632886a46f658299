// SPDX-License-Identifier: MIT
// `lidistill convert`: any supported point-cloud file to any other.
#include "core/base/Log.h"
#include "core/cli/Cli.h"
#include "core/cli/Command.h"
#include "core/cli/Outputs.h"
#include "core/io/CloudFile.h"
#include "core/io/ScanIo.h"

#include <filesystem>
#include <ostream>

namespace lidistill::cli {
namespace fs = std::filesystem;

namespace {

io::PcdEncoding pcdEncoding(const std::string& s) {
    if (s == "ascii") return io::PcdEncoding::Ascii;
    if (s == "binary") return io::PcdEncoding::Binary;
    if (s == "binary_compressed") return io::PcdEncoding::BinaryCompressed;
    throw UsageError("unknown PCD encoding '" + s + "' (ascii, binary, binary_compressed)");
}

io::PlyEncoding plyEncoding(const std::string& s) {
    if (s == "ascii") return io::PlyEncoding::Ascii;
    if (s == "binary" || s == "binary_little_endian") return io::PlyEncoding::BinaryLittleEndian;
    if (s == "binary_big_endian") return io::PlyEncoding::BinaryBigEndian;
    throw UsageError("unknown PLY encoding '" + s +
                     "' (ascii, binary_little_endian, binary_big_endian)");
}

int runConvert(const Args& args, Context& ctx) {
    const fs::path in = args.positional().at(0), out = args.positional().at(1);
    const bool force = args.flag("force");
    std::vector<fs::path> inputs{in};
    if (auto l = args.value("labels")) inputs.emplace_back(*l);
    checkOutputFile(out, inputs, force);
    if (auto l = args.value("labels-out")) checkOutputFile(*l, inputs, force);
    io::ReadOptions opt;
    opt.strict = args.flag("strict");
    PointCloud cloud;
    if (io::formatFromPath(in) == io::CloudFormat::NuscenesBin) {
        cloud = io::readNuscenesBin(
            in, args.flag("kitti-axes") ? io::NuscenesAxes::KittiFrame : io::NuscenesAxes::AsStored,
            opt);
    } else {
        const auto labels = args.value("labels");
        cloud = io::formatFromPath(in) == io::CloudFormat::KittiBin
                    ? io::readKittiScan(
                          in, labels ? std::optional<fs::path>(*labels) : std::nullopt, opt)
                    : io::readCloud(in, opt);
    }
    const auto encoding = args.value("encoding");
    switch (io::formatFromPath(out)) {
        case io::CloudFormat::Pcd:
            io::writePcd(out, cloud, pcdEncoding(encoding.value_or("binary")));
            break;
        case io::CloudFormat::Ply:
            io::writePly(out, cloud, plyEncoding(encoding.value_or("binary_little_endian")));
            break;
        case io::CloudFormat::KittiBin:
            io::writeKittiBin(out, cloud);
            if (auto labelsOut = args.value("labels-out")) {
                if (!cloud.hasLabels()) throw UsageError("--labels-out: the input has no labels");
                io::writeLabelFile(*labelsOut, cloud.label);
            }
            break;
        case io::CloudFormat::NuscenesBin:
            throw UsageError(
                "writing nuScenes .pcd.bin is not supported; write .bin, .pcd or .ply");
    }
    ctx.out << "wrote " << out.string() << " (" << cloud.size() << " points)\n";
    return kOk;
}

}  // namespace

Command convertCommand() {
    Command c;
    c.name = "convert";
    c.summary = "Convert between KITTI .bin (+ .label), nuScenes .pcd.bin, PCD and PLY";
    c.synopsis = "INPUT OUTPUT";
    c.description =
        "Formats follow the file extensions. Intensity and SemanticKITTI labels are kept where\n"
        "the output format can hold them (PCD and PLY fields 'intensity' and 'label').";
    c.options = {
        {"labels", "FILE", "SemanticKITTI .label file to attach to a KITTI .bin input", false, ""},
        {"force", "", "replace an existing output (an input is never replaced)", true, ""},
        {"labels-out", "FILE", "also write the labels of a .bin output to this .label file", false,
         ""},
        {"encoding", "E",
         "PCD: ascii|binary|binary_compressed; PLY: ascii|binary_little_endian|"
         "binary_big_endian",
         false, "binary"},
        {"kitti-axes", "", "nuScenes input: rotate to x forward, y left (KITTI axes)", true, ""},
        {"strict", "", "fail on NaN/inf coordinates instead of dropping them", true, ""}};
    c.minPositional = c.maxPositional = 2;
    c.run = runConvert;
    return c;
}

}  // namespace lidistill::cli
