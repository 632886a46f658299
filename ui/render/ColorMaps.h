#pragma once
// SPDX-License-Identifier: MIT

#include <vtkSmartPointer.h>

#include <array>

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

}  // namespace lidistill::ui
