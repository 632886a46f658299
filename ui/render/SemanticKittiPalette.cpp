// SPDX-License-Identifier: MIT
#include "ui/render/SemanticKittiPalette.h"

#include <algorithm>
#include <array>

namespace lidistill::ui {
namespace {

struct ClassEntry {
    std::uint16_t id;
    std::string_view name;
    std::uint8_t b, g, r;  // as written in semantic-kitti.yaml color_map (BGR)
};

// semantic-kitti.yaml (PRBonn/semantic-kitti-api, config/), `labels` and `color_map`,
// copied in the file's BGR order so the table can be checked against it line by line.
constexpr std::array<ClassEntry, 34> kClasses{{
    {0, "unlabeled", 0, 0, 0},
    {1, "outlier", 0, 0, 255},
    {10, "car", 245, 150, 100},
    {11, "bicycle", 245, 230, 100},
    {13, "bus", 250, 80, 100},
    {15, "motorcycle", 150, 60, 30},
    {16, "on-rails", 255, 0, 0},
    {18, "truck", 180, 30, 80},
    {20, "other-vehicle", 255, 0, 0},
    {30, "person", 30, 30, 255},
    {31, "bicyclist", 200, 40, 255},
    {32, "motorcyclist", 90, 30, 150},
    {40, "road", 255, 0, 255},
    {44, "parking", 255, 150, 255},
    {48, "sidewalk", 75, 0, 75},
    {49, "other-ground", 75, 0, 175},
    {50, "building", 0, 200, 255},
    {51, "fence", 50, 120, 255},
    {52, "other-structure", 0, 150, 255},
    {60, "lane-marking", 170, 255, 150},
    {70, "vegetation", 0, 175, 0},
    {71, "trunk", 0, 60, 135},
    {72, "terrain", 80, 240, 150},
    {80, "pole", 150, 240, 255},
    {81, "traffic-sign", 0, 0, 255},
    {99, "other-object", 255, 255, 50},
    {252, "moving-car", 245, 150, 100},
    {253, "moving-bicyclist", 200, 40, 255},
    {254, "moving-person", 30, 30, 255},
    {255, "moving-motorcyclist", 90, 30, 150},
    {256, "moving-on-rails", 255, 0, 0},
    {257, "moving-bus", 250, 80, 100},
    {258, "moving-truck", 180, 30, 80},
    {259, "moving-other-vehicle", 255, 0, 0},
}};

constexpr std::array<std::uint16_t, kClasses.size()> makeIds() {
    std::array<std::uint16_t, kClasses.size()> ids{};
    for (std::size_t i = 0; i < kClasses.size(); ++i) {
        ids[i] = kClasses[i].id;
    }
    return ids;
}
constexpr auto kIds = makeIds();

const ClassEntry* find(std::uint16_t id) noexcept {
    const auto it = std::lower_bound(kClasses.begin(), kClasses.end(), id,
                                     [](const ClassEntry& e, std::uint16_t v) { return e.id < v; });
    return it != kClasses.end() && it->id == id ? &*it : nullptr;
}

}  // namespace

Rgb8 semanticKittiColor(std::uint16_t semanticClass) noexcept {
    const ClassEntry* e = find(semanticClass);
    return e ? Rgb8{e->r, e->g, e->b} : kUnknownClassColor;
}

std::string_view semanticKittiName(std::uint16_t semanticClass) noexcept {
    const ClassEntry* e = find(semanticClass);
    return e ? e->name : std::string_view{};
}

std::span<const std::uint16_t> semanticKittiClasses() noexcept {
    return kIds;
}

}  // namespace lidistill::ui
