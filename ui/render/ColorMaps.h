#pragma once
// SPDX-License-Identifier: MIT

#include "ui/render/SemanticKittiPalette.h"

#include <QString>
#include <QStringList>

#include <vtkSmartPointer.h>

#include <array>
#include <cstdint>
#include <optional>

class vtkLookupTable;

namespace lidistill::ui {

/// The colormaps the scalar colour modes (height, range, intensity) can use.
enum class Colormap {
    Turbo,    ///< Google's turbo: rainbow-like but perceptually smoother (the default)
    Viridis,  ///< matplotlib's viridis: perceptually uniform, readable in grey print
    Gray,     ///< black to white (lookup tables start at kGrayStart, see colormapStart())
    Jet,      ///< MATLAB's jet: dark blue, cyan, yellow, dark red; familiar, not uniform
};

/// Every colormap, in menu order.
inline constexpr std::array<Colormap, 4> kColormaps{Colormap::Turbo, Colormap::Viridis,
                                                    Colormap::Gray, Colormap::Jet};

/// Google's "turbo" colormap (Mikhailov 2019, polynomial fit), t clamped to [0, 1]; RGB in [0, 1].
std::array<double, 3> turbo(double t) noexcept;

/// Where lookup tables start on turbo's [0, 1]: its first tenth is near-black, which would
/// hide the lowest points (the ground) on the studio's dark background.
inline constexpr double kTurboStart = 0.1;

/// Where gray lookup tables start: black points would vanish on the dark background.
inline constexpr double kGrayStart = 0.2;

/// matplotlib's viridis (6th-degree polynomial fit, within 0.015 of the reference table),
/// t clamped to [0, 1]; RGB in [0, 1].
std::array<double, 3> viridis(double t) noexcept;
/// MATLAB's jet (piecewise linear), t clamped to [0, 1]; RGB in [0, 1].
std::array<double, 3> jet(double t) noexcept;
/// The raw colormap at t in [0, 1] (clamped): turbo(), viridis(), jet() or grey t.
std::array<double, 3> colormapColor(Colormap map, double t) noexcept;
/// Where lookup tables of `map` start on its [0, 1]: kTurboStart, kGrayStart, else 0.
double colormapStart(Colormap map) noexcept;
/// The colour a lookup table of makeLookupTable() gives the value at fraction `u` of its
/// range (u clamped to [0, 1]): colormapColor(map, start + (1 - start) * u).
std::array<double, 3> colormapAt(Colormap map, double u) noexcept;

/// Lower-case name used on the command line and in settings: "turbo", "viridis", ...
QString colormapName(Colormap map);
/// The colormap called `name` (case-insensitive), or nothing for an unknown name.
std::optional<Colormap> colormapFromName(const QString& name);
/// Every colormapName(), in kColormaps order (for usage texts and errors).
QStringList colormapNames();

/// A 256-entry lookup table over values [lo, hi] (lo < hi), sampling `map` over
/// [colormapStart(map), 1]; values outside the range take the end colours.
/// Thread-safe (new object).
vtkSmartPointer<vtkLookupTable> makeLookupTable(Colormap map, double lo, double hi);
/// makeLookupTable(Colormap::Turbo, lo, hi).
vtkSmartPointer<vtkLookupTable> makeTurboLookupTable(double lo, double hi);

/// Parses a fixed colour range written "MIN:MAX" (e.g. "-2.5:3", "0:255").
/// @throws InvalidArgument naming the text when it is not two finite numbers with MIN < MAX.
/// Thread-safe.
std::array<double, 2> parseColorRange(const QString& text);

/// Colour of points that belong to no instance (instance id 0) in the instance mode.
inline constexpr Rgb8 kNoInstanceColor{150, 150, 150};

/// A distinct, saturated colour for the instance of a raw SemanticKITTI label (class in the
/// low 16 bits, instance in the high 16): the same (class, instance) pair always gets the same
/// colour, in every frame, so an object keeps its colour through a sequence; consecutive ids
/// get far-apart hues (golden-ratio steps). Instance 0 gives kNoInstanceColor. Thread-safe.
Rgb8 instanceColor(std::uint32_t label) noexcept;

}  // namespace lidistill::ui
