// SPDX-License-Identifier: MIT
#include "ui/render/ColorMaps.h"

#include "core/base/Error.h"

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

std::array<double, 3> viridis(double t) noexcept {
    const double x = std::clamp(t, 0.0, 1.0);
    // Least-squares polynomial fit of matplotlib's 256-entry table (Matt Zucker, 2019).
    static constexpr double kC[7][3] = {
        {0.2777273272234177, 0.005407344544966578, 0.3340998053353061},
        {0.1050930431085774, 1.404613529898575, 1.384590162594685},
        {-0.3308618287255563, 0.214847559468213, 0.09509516302823659},
        {-4.634230498983486, -5.799100973351585, -19.33244095627987},
        {6.228269936347081, 14.17993336680509, 56.69055260068105},
        {4.776384997670288, -13.74514537774601, -65.35303263337234},
        {-5.435455855934631, 4.645852612178535, 26.3124352495832}};
    std::array<double, 3> c{};
    for (int k = 0; k < 3; ++k) {
        double v = kC[6][k];
        for (int d = 5; d >= 0; --d) v = kC[d][k] + x * v;
        c[k] = std::clamp(v, 0.0, 1.0);
    }
    return c;
}

std::array<double, 3> jet(double t) noexcept {
    const double x = std::clamp(t, 0.0, 1.0);
    const auto ramp = [x](double centre) {
        return std::clamp(1.5 - std::abs(4.0 * x - centre), 0.0, 1.0);
    };
    return {ramp(3.0), ramp(2.0), ramp(1.0)};
}

std::array<double, 3> colormapColor(Colormap map, double t) noexcept {
    switch (map) {
        case Colormap::Viridis:
            return viridis(t);
        case Colormap::Gray: {
            const double g = std::clamp(t, 0.0, 1.0);
            return {g, g, g};
        }
        case Colormap::Jet:
            return jet(t);
        case Colormap::Turbo:
            break;
    }
    return turbo(t);
}

double colormapStart(Colormap map) noexcept {
    switch (map) {
        case Colormap::Turbo:
            return kTurboStart;
        case Colormap::Gray:
            return kGrayStart;
        default:
            return 0.0;
    }
}

std::array<double, 3> colormapAt(Colormap map, double u) noexcept {
    const double start = colormapStart(map);
    return colormapColor(map, start + (1.0 - start) * std::clamp(u, 0.0, 1.0));
}

QString colormapName(Colormap map) {
    switch (map) {
        case Colormap::Viridis:
            return QStringLiteral("viridis");
        case Colormap::Gray:
            return QStringLiteral("gray");
        case Colormap::Jet:
            return QStringLiteral("jet");
        case Colormap::Turbo:
            break;
    }
    return QStringLiteral("turbo");
}

std::optional<Colormap> colormapFromName(const QString& name) {
    const QString n = name.trimmed().toLower();
    for (const Colormap m : kColormaps) {
        if (n == colormapName(m)) return m;
    }
    if (n == QLatin1String("grey")) return Colormap::Gray;
    return std::nullopt;
}

QStringList colormapNames() {
    QStringList out;
    for (const Colormap m : kColormaps) out << colormapName(m);
    return out;
}

vtkSmartPointer<vtkLookupTable> makeLookupTable(Colormap map, double lo, double hi) {
    constexpr int kEntries = 256;
    auto lut = vtkSmartPointer<vtkLookupTable>::New();
    lut->SetNumberOfTableValues(kEntries);
    lut->SetTableRange(lo, hi);
    for (int i = 0; i < kEntries; ++i) {
        const auto c = colormapAt(map, static_cast<double>(i) / (kEntries - 1));
        lut->SetTableValue(i, c[0], c[1], c[2], 1.0);
    }
    lut->UseBelowRangeColorOff();
    lut->UseAboveRangeColorOff();  // values outside the range take the end colours
    return lut;
}

vtkSmartPointer<vtkLookupTable> makeTurboLookupTable(double lo, double hi) {
    return makeLookupTable(Colormap::Turbo, lo, hi);
}

std::array<double, 2> parseColorRange(const QString& text) {
    const QStringList parts = text.trimmed().split(QLatin1Char(':'));
    bool okLo = false;
    bool okHi = false;
    const double lo = parts.size() == 2 ? parts[0].trimmed().toDouble(&okLo) : 0.0;
    const double hi = parts.size() == 2 ? parts[1].trimmed().toDouble(&okHi) : 0.0;
    if (!okLo || !okHi) {
        throw InvalidArgument("colour range '" + text.toStdString() +
                              "' is not MIN:MAX (two numbers, e.g. -2:3)");
    }
    if (!std::isfinite(lo) || !std::isfinite(hi) || !(lo < hi)) {
        throw InvalidArgument("colour range '" + text.toStdString() +
                              "' needs finite numbers with MIN < MAX");
    }
    return {lo, hi};
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
