#pragma once
// SPDX-License-Identifier: MIT

#include "ui/render/ColorMaps.h"
#include "ui/render/PointCloudView.h"

#include <QList>
#include <QObject>
#include <QPointer>

#include <optional>

class QAction;
class QActionGroup;
class QComboBox;
class QMenu;
class QWidget;

namespace lidistill::ui {

/// The studio's colour-scale controls for the scalar modes (height, range, intensity): the
/// colormap (a toolbar box and checkable menu entries, M cycles) and the colour range, either
/// automatic per scan (robust 2-98 %) or fixed (L freezes the range on screen, Ctrl+L types
/// one in). Every view it drives gets the same colormap and fixed ranges; fixed ranges are
/// kept per mode and survive frame changes, so consecutive scans are coloured alike.
/// Split out of MainWindow, which only places these widgets and actions. GUI thread only.
class ColorScaleControls : public QObject {
    Q_OBJECT

public:
    /// @param views the views to drive; the first one's mode and cloud decide what L freezes.
    /// @param parent owner, and the parent of the range dialog.
    ColorScaleControls(QList<PointCloudView*> views, QWidget* parent);

    /// The colormap box for a toolbar (owned by whoever adds it to a layout or toolbar).
    QComboBox* colormapBox() const noexcept { return m_box; }
    /// Fills `menu` with the colormap entries, "Next colormap" (M), "Fix colour range" (L,
    /// checkable), "Set colour range..." (Ctrl+L) and "Automatic colour range".
    void populateMenu(QMenu* menu);
    Colormap colormap() const noexcept { return m_colormap; }
    /// The checkable "fix the range" action (ticked when the current mode's range is fixed).
    QAction* fixRangeAction() const noexcept { return m_fixAction; }

public Q_SLOTS:
    void setColormap(lidistill::ui::Colormap map);
    void nextColormap();
    /// Fixes scalar `mode`'s range in every view (nothing: automatic again), silently (the
    /// menu actions report in the status bar).
    /// @throws InvalidArgument as PointCloudView::setFixedRange().
    void setFixedRange(lidistill::ui::ColorMode mode,
                       std::optional<lidistill::ui::ColorRange> range);
    /// Fixes the current mode's range to the one on screen in the first view, or, when it is
    /// fixed already, returns it to automatic. In a class mode it only says why not (status).
    void toggleFixedRange();
    /// Asks for "MIN:MAX" (parseColorRange()) and fixes the current mode's range to it.
    void editRange();
    /// Updates the tick of fixRangeAction(): call when the views' colour mode changed.
    void syncToMode();

Q_SIGNALS:
    /// A line for the status bar: what changed, or why nothing did.
    void status(const QString& message);

private:
    ColorMode currentMode() const;
    /// Says in the status bar what a user action did to `mode`'s range.
    void reportRange(ColorMode mode, const std::optional<ColorRange>& range);

    QList<QPointer<PointCloudView>> m_views;
    QWidget* m_parent;
    QComboBox* m_box;
    QActionGroup* m_mapGroup = nullptr;
    QAction* m_fixAction = nullptr;
    Colormap m_colormap = Colormap::Turbo;
};

}  // namespace lidistill::ui
