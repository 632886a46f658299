#pragma once
// SPDX-License-Identifier: MIT
// SemanticKITTI class ids used by the synthetic worlds, and the LiDAR reflectivity of each
// surface kind. Ids follow semantic-kitti.yaml so that the ground-truth map code and the
// studio treat synthetic and real scans alike (moving objects use the >= 252 ids).

#include <cstdint>

namespace lidistill::synth::cls {

inline constexpr std::uint16_t kCar = 10;
inline constexpr std::uint16_t kBicycle = 11;
inline constexpr std::uint16_t kTruck = 18;
inline constexpr std::uint16_t kOtherVehicle = 20;
inline constexpr std::uint16_t kPerson = 30;
inline constexpr std::uint16_t kRoad = 40;
inline constexpr std::uint16_t kParking = 44;
inline constexpr std::uint16_t kSidewalk = 48;
inline constexpr std::uint16_t kOtherGround = 49;
inline constexpr std::uint16_t kBuilding = 50;
inline constexpr std::uint16_t kFence = 51;
inline constexpr std::uint16_t kOtherStructure = 52;
inline constexpr std::uint16_t kLaneMarking = 60;
inline constexpr std::uint16_t kVegetation = 70;
inline constexpr std::uint16_t kTrunk = 71;
inline constexpr std::uint16_t kTerrain = 72;
inline constexpr std::uint16_t kPole = 80;
inline constexpr std::uint16_t kTrafficSign = 81;
inline constexpr std::uint16_t kMovingCar = 252;
inline constexpr std::uint16_t kMovingPerson = 254;

/// Ground classes (as counted by the realism report and by LiDiff-style ground filters).
inline constexpr bool isGround(std::uint16_t c) noexcept {
    return c == kRoad || c == kParking || c == kSidewalk || c == kOtherGround ||
           c == kLaneMarking || c == kTerrain;
}

/// Classes that SemanticKITTI gives instance ids ("things").
inline constexpr bool isThing(std::uint16_t c) noexcept {
    return c == kCar || c == kBicycle || c == kTruck || c == kOtherVehicle || c == kPerson ||
           c == kMovingCar || c == kMovingPerson;
}

}  // namespace lidistill::synth::cls

namespace lidistill::synth {

/// How a surface answers the laser: `albedo` scales the remission (KITTI's 0..1 scale at
/// normal incidence); `passThrough` is the chance a ray goes through without a return
/// (glass, sparse foliage).
struct Material {
    float albedo = 0.3f;
    float passThrough = 0.0f;
};

/// Typical remission of each class, read off real KITTI scans (road ~0.25, lane paint and
/// signs bright, vegetation mid, car paint varied per car).
inline Material defaultMaterial(std::uint16_t semantic) noexcept {
    switch (semantic) {
        case cls::kRoad:
            return {0.30f, 0.0f};
        case cls::kParking:
            return {0.32f, 0.0f};
        case cls::kSidewalk:
            return {0.36f, 0.0f};
        case cls::kOtherGround:
            return {0.34f, 0.0f};
        case cls::kLaneMarking:
            return {0.75f, 0.0f};
        case cls::kTerrain:
            return {0.45f, 0.0f};
        case cls::kBuilding:
            return {0.38f, 0.0f};
        case cls::kFence:
            return {0.30f, 0.0f};
        case cls::kVegetation:
            return {0.50f, 0.0f};
        case cls::kTrunk:
            return {0.42f, 0.0f};
        case cls::kPole:
            return {0.45f, 0.0f};
        case cls::kTrafficSign:
            return {0.90f, 0.0f};
        case cls::kPerson:
        case cls::kMovingPerson:
            return {0.30f, 0.0f};
        default:
            return {0.30f, 0.0f};
    }
}

}  // namespace lidistill::synth
