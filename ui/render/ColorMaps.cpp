// SPDX-License-Identifier: MIT
#include "ui/render/ColorMaps.h"

#include <vtkLookupTable.h>

#include <algorithm>
#include <cmath>

namespace lidistill::ui {

std::array<double, 3> turbo(double t) noexcept {
    const double x = std::clamp(t, 0.0, 1.0);
    // Coefficients of the published polynomial approximation of turbo.
    const double r =
        0.13572138 +
        x * (4.61539260 +
             x * (-42.66032258 + x * (132.13108234 + x * (-152.94239396 + x * 59.28637943))));
    const double g =
        0.09140261 + x * (2.19418839 + x * (4.84296658 + x * (-14.18503333 +
                                                              x * (4.27729857 + x * 2.82956604))));
    const double b =
        0.10667330 +
        x * (12.64194608 +
             x * (-60.58204836 + x * (110.36276771 + x * (-89.90310912 + x * 27.34824973))));
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

Rgb8 instanceColor(std::uint32_t label) noexcept {
    const std::uint32_t instance = label >> 16;
    if (instance == 0) {
        return kNoInstanceColor;
    }
    // Instance ids count up from 1 within a class; mixing in the class keeps a car and a
    // person with the same id apart. The golden-ratio step spreads neighbouring ids around
    // the hue circle; value alternates so that hue neighbours still differ.
    const double cls = static_cast<double>(label & 0xFFFFu);
    const double hue = std::fmod(0.11 + 0.6180339887498949 * instance + 0.1234567 * cls, 1.0);
    const double s = 0.85;
    const double v = (instance % 2 == 0) ? 1.0 : 0.8;
    const double h6 = hue * 6.0;
    const int sector = static_cast<int>(h6) % 6;
    const double f = h6 - std::floor(h6);
    const double p = v * (1.0 - s);
    const double q = v * (1.0 - s * f);
    const double t = v * (1.0 - s * (1.0 - f));
    double r = v, g = t, b = p;
    switch (sector) {
        case 0:
            r = v, g = t, b = p;
            break;
        case 1:
            r = q, g = v, b = p;
            break;
        case 2:
            r = p, g = v, b = t;
            break;
        case 3:
            r = p, g = q, b = v;
            break;
        case 4:
            r = t, g = p, b = v;
            break;
        default:
            r = v, g = p, b = q;
            break;
    }
    auto to8 = [](double x) {
        return static_cast<std::uint8_t>(std::lround(std::clamp(x, 0.0, 1.0) * 255.0));
    };
    return {to8(r), to8(g), to8(b)};
}

}  // namespace lidistill::ui
