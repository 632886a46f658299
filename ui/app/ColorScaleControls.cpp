// SPDX-License-Identifier: MIT
#include "ui/app/ColorScaleControls.h"

#include <QAction>
#include <QActionGroup>
#include <QComboBox>
#include <QInputDialog>
#include <QMenu>

#include <exception>

namespace lidistill::ui {

ColorScaleControls::ColorScaleControls(QList<PointCloudView*> views, QWidget* parent)
    : QObject(parent), m_parent(parent), m_box(new QComboBox) {
    for (PointCloudView* v : views) m_views.append(v);
    for (const Colormap m : kColormaps) {
        m_box->addItem(colormapName(m), static_cast<int>(m));
    }
    m_box->setToolTip(tr("Colormap of height, range and intensity (M cycles)"));
    m_box->setFocusPolicy(Qt::NoFocus);  // keep N/B and arrows for frames
    connect(m_box, &QComboBox::currentIndexChanged, this,
            [this](int i) { setColormap(static_cast<Colormap>(m_box->itemData(i).toInt())); });
}

void ColorScaleControls::populateMenu(QMenu* menu) {
    m_mapGroup = new QActionGroup(this);
    for (const Colormap m : kColormaps) {
        QAction* a = menu->addAction(colormapName(m), this, [this, m] { setColormap(m); });
        a->setCheckable(true);
        a->setChecked(m == m_colormap);
        a->setData(static_cast<int>(m));
        m_mapGroup->addAction(a);
    }
    QAction* next = menu->addAction(tr("&Next colormap"), this, &ColorScaleControls::nextColormap);
    next->setShortcut(Qt::Key_M);
    menu->addSeparator();
    m_fixAction = menu->addAction(tr("&Fix colour range (keep it across frames)"));
    m_fixAction->setCheckable(true);
    m_fixAction->setShortcut(Qt::Key_L);
    // triggered, not toggled: syncToMode() sets the tick without acting.
    connect(m_fixAction, &QAction::triggered, this, [this] { toggleFixedRange(); });
    QAction* edit =
        menu->addAction(tr("&Set colour range..."), this, &ColorScaleControls::editRange);
    edit->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_L));
    menu->addAction(tr("&Automatic colour range (2-98 % of each scan)"), this, [this] {
        if (!isScalarMode(currentMode())) return;
        setFixedRange(currentMode(), std::nullopt);
        reportRange(currentMode(), std::nullopt);
    });
}

ColorMode ColorScaleControls::currentMode() const {
    for (const auto& v : m_views) {
        if (v) return v->colorMode();
    }
    return ColorMode::SemanticClass;
}

void ColorScaleControls::setColormap(Colormap map) {
    const int i = m_box->findData(static_cast<int>(map));
    if (i >= 0 && i != m_box->currentIndex()) {
        m_box->setCurrentIndex(i);  // comes back here through the signal
        return;
    }
    m_colormap = map;
    for (const auto& v : m_views) {
        if (v) v->setColormap(map);
    }
    if (m_mapGroup) {
        for (QAction* a : m_mapGroup->actions()) {
            a->setChecked(a->data().toInt() == static_cast<int>(map));
        }
    }
}

void ColorScaleControls::nextColormap() {
    m_box->setCurrentIndex((m_box->currentIndex() + 1) % m_box->count());
    Q_EMIT status(tr("Colormap: %1").arg(colormapName(m_colormap)));
}

void ColorScaleControls::setFixedRange(ColorMode mode, std::optional<ColorRange> range) {
    for (const auto& v : m_views) {
        if (v) v->setFixedRange(mode, range);
    }
    syncToMode();
}

void ColorScaleControls::reportRange(ColorMode mode, const std::optional<ColorRange>& range) {
    if (range) {
        Q_EMIT status(tr("Colour range of %1 fixed to %2 .. %3")
                          .arg(scalarModeName(mode))
                          .arg((*range)[0], 0, 'g', 4)
                          .arg((*range)[1], 0, 'g', 4));
    } else {
        Q_EMIT status(
            tr("Colour range of %1: automatic (2-98 % of each scan)").arg(scalarModeName(mode)));
    }
}

void ColorScaleControls::toggleFixedRange() {
    const ColorMode mode = currentMode();
    if (!isScalarMode(mode)) {
        syncToMode();
        Q_EMIT status(tr("Colour ranges apply to height, range and intensity"));
        return;
    }
    PointCloudView* first = m_views.isEmpty() ? nullptr : m_views.first().data();
    if (!first) return;
    if (first->fixedRange(mode)) {
        setFixedRange(mode, std::nullopt);
        reportRange(mode, std::nullopt);
        return;
    }
    const auto shown = first->activeRange();
    if (!shown) {
        syncToMode();
        Q_EMIT status(tr("Nothing to fix yet: the view shows no %1").arg(scalarModeName(mode)));
        return;
    }
    setFixedRange(mode, shown);
    reportRange(mode, shown);
}

void ColorScaleControls::editRange() {
    const ColorMode mode = currentMode();
    if (!isScalarMode(mode)) {
        Q_EMIT status(tr("Colour ranges apply to height, range and intensity"));
        return;
    }
    QString current;
    if (!m_views.isEmpty() && m_views.first()) {
        if (const auto r = m_views.first()->activeRange()) {
            current = QStringLiteral("%1:%2").arg((*r)[0], 0, 'g', 6).arg((*r)[1], 0, 'g', 6);
        }
    }
    bool ok = false;
    const QString text =
        QInputDialog::getText(m_parent, tr("Colour range"),
                              tr("Fixed range of %1, as MIN:MAX:").arg(scalarModeName(mode)),
                              QLineEdit::Normal, current, &ok);
    if (!ok) return;
    try {
        const ColorRange range = parseColorRange(text);
        setFixedRange(mode, range);
        reportRange(mode, range);
    } catch (const std::exception& e) {
        Q_EMIT status(tr("Colour range unchanged: %1").arg(QString::fromUtf8(e.what())));
    }
}

void ColorScaleControls::syncToMode() {
    if (!m_fixAction) return;
    const ColorMode mode = currentMode();
    const bool fixed = !m_views.isEmpty() && m_views.first() && isScalarMode(mode) &&
                       m_views.first()->fixedRange(mode).has_value();
    m_fixAction->setChecked(fixed);
}

}  // namespace lidistill::ui
