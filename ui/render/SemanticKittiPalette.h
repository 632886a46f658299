#pragma once
// SPDX-License-Identifier: MIT

#include <cstdint>
#include <span>
#include <string_view>

namespace lidistill::ui {

/// An 8-bit RGB colour.
struct Rgb8 {
    std::uint8_t r = 0;
    std::uint8_t g = 0;
    std::uint8_t b = 0;
    friend bool operator==(const Rgb8&, const Rgb8&) = default;
};

/// Colour drawn for semantic ids that semantic-kitti.yaml does not list.
inline constexpr Rgb8 kUnknownClassColor{128, 128, 128};

/// The official SemanticKITTI colour of a semantic class (the `color_map` of
/// semantic-kitti.yaml, which is stored as BGR and returned here as RGB), for all 34 raw
/// classes 0..259 including the moving ones (252..259). Unknown ids give kUnknownClassColor.
/// Thread-safe (constant table).
Rgb8 semanticKittiColor(std::uint16_t semanticClass) noexcept;

/// The yaml `labels` name of a class ("car", "moving-car"), or an empty view if unknown.
std::string_view semanticKittiName(std::uint16_t semanticClass) noexcept;

/// Every raw class id the yaml defines, ascending.
std::span<const std::uint16_t> semanticKittiClasses() noexcept;

}  // namespace lidistill::ui
