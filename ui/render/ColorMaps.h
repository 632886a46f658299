#pragma once
// SPDX-License-Identifier: MIT

#include "ui/render/SemanticKittiPalette.h"

#include <vtkSmartPointer.h>

#include <array>
#include <cstdint>

class vtkLookupTable;

namespace lidistill::ui {

/// Google's "turbo" colormap (Mikhailov 2019, polynomial fit), t clamped to [0, 1]; RGB in [0, 1].
std::array<double, 3> turbo(double t) noexcept;

/// Where lookup tables start on turbo's [0, 1]: its first tenth is near-black, which would
/// hide the lowest points (the ground) on the studio's dark background.
inline constexpr double kTurboStart = 0.1;

/// A 256-entry lookup table over values [lo, hi], sampling turbo() over [kTurboStart, 1].
/// Thread-safe (new object).
vtkSmartPointer<vtkLookupTable> makeTurboLookupTable(double lo, double hi);

/// Colour of points that belong to no instance (instance id 0) in the instance mode.
inline constexpr Rgb8 kNoInstanceColor{150, 150, 150};

/// A distinct, saturated colour for the instance of a raw SemanticKITTI label (class in the
/// low 16 bits, instance in the high 16): the same (class, instance) pair always gets the same
/// colour, in every frame, so an object keeps its colour through a sequence; consecutive ids
/// get far-apart hues (golden-ratio steps). Instance 0 gives kNoInstanceColor. Thread-safe.
Rgb8 instanceColor(std::uint32_t label) noexcept;

}  // namespace lidistill::ui
