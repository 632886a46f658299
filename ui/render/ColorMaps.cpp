// SPDX-License-Identifier: MIT
#include "ui/render/ColorMaps.h"

#include <vtkLookupTable.h>

#include <algorithm>

namespace lidistill::ui {

std::array<double, 3> turbo(double t) noexcept {
    const double x = std::clamp(t, 0.0, 1.0);
    // Coefficients of the published polynomial approximation of turbo.
    const double r = 0.13572138 + x * (4.61539260 + x * (-42.66032258 + x * (132.13108234 +
                     x * (-152.94239396 + x * 59.28637943))));
    const double g = 0.09140261 + x * (2.19418839 + x * (4.84296658 + x * (-14.18503333 +
                     x * (4.27729857 + x * 2.82956604))));
    const double b = 0.10667330 + x * (12.64194608 + x * (-60.58204836 + x * (110.36276771 +
                     x * (-89.90310912 + x * 27.34824973))));
    return {std::clamp(r, 0.0, 1.0), std::clamp(g, 0.0, 1.0), std::clamp(b, 0.0, 1.0)};
}

vtkSmartPointer<vtkLookupTable> makeTurboLookupTable(double lo, double hi) {
    constexpr int kEntries = 256;
    auto lut = vtkSmartPointer<vtkLookupTable>::New();
    lut->SetNumberOfTableValues(kEntries);
    lut->SetTableRange(lo, hi);
    for (int i = 0; i < kEntries; ++i) {
        const double u = static_cast<double>(i) / (kEntries - 1);
        const auto c = turbo(kTurboStart + (1.0 - kTurboStart) * u);
        lut->SetTableValue(i, c[0], c[1], c[2], 1.0);
    }
    lut->UseBelowRangeColorOff();
    lut->UseAboveRangeColorOff();  // values outside the range take the end colours
    return lut;
}

}  // namespace lidistill::ui
