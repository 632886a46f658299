#pragma once
// SPDX-License-Identifier: MIT

#include "core/base/PointCloud.h"
#include "core/io/ScanIo.h"

#include <filesystem>

namespace lidistill::io {

enum class PcdEncoding { Ascii, Binary, BinaryCompressed };
enum class PlyEncoding { Ascii, BinaryLittleEndian, BinaryBigEndian };

/// Reads a PCD file (v0.7; ascii, binary or binary_compressed) through PCL, keeping the
/// `intensity` and `label` fields (and `ring`) when present; coordinates of any numeric type. The
/// header is validated first (fields, sizes, counts, WIDTH*HEIGHT == POINTS, data size), so a
/// truncated or lying file gives an IoError naming the file and the fault instead of undefined
/// behaviour inside PCL.
PointCloud readPcd(const std::filesystem::path& file, const ReadOptions& options = {});
/// Writes x, y, z (+ intensity, label, ring if present) through PCL; atomic (temp + rename),
/// and the written file is checked before it replaces the target, because PCL does not
/// report every failed write. @throws InvalidArgument for an inconsistent cloud; IoError
/// naming the file if it cannot be written (the old file is then untouched).
void writePcd(const std::filesystem::path& file, const PointCloud& cloud,
              PcdEncoding encoding = PcdEncoding::Binary);

/// Reads a PLY file (ascii, binary little or big endian) with a `vertex` element holding
/// x, y, z and optionally intensity (or scalar_intensity) and label. Header validated first.
PointCloud readPly(const std::filesystem::path& file, const ReadOptions& options = {});
/// Writes a PLY `vertex` element: float x, y, z (+ float intensity, uint label, ushort ring);
/// atomic, same exceptions as writePcd. Binary little endian goes through PCL; ASCII (PCL
/// 1.13 rounds to 6 digits), big endian (PCL writes host order only) and empty clouds are
/// written here, with shortest exact number formatting.
void writePly(const std::filesystem::path& file, const PointCloud& cloud,
              PlyEncoding encoding = PlyEncoding::BinaryLittleEndian);

/// File kinds recognised by extension.
enum class CloudFormat { KittiBin, NuscenesBin, Pcd, Ply };
/// `.pcd.bin` -> NuscenesBin, `.bin` -> KittiBin, `.pcd`, `.ply` (case-insensitive).
/// @throws IoError for any other extension.
CloudFormat formatFromPath(const std::filesystem::path& file);

/// Reads any supported file; nuScenes sweeps in `nuscenesAxes` (default: as stored). Thread-safe.
PointCloud readCloud(const std::filesystem::path& file, const ReadOptions& options = {},
                     NuscenesAxes nuscenesAxes = NuscenesAxes::AsStored);
/// Writes any supported file, chosen by extension (PCD binary, PLY binary little endian).
/// @throws IoError for `.pcd.bin` (nuScenes sweeps are read-only here) or other extensions.
void writeCloud(const std::filesystem::path& file, const PointCloud& cloud);

}  // namespace lidistill::io
