// SPDX-License-Identifier: MIT
#include "ui/app/ShortcutHelp.h"

#include <QAction>
#include <QDialogButtonBox>
#include <QHeaderView>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QRegularExpression>
#include <QTableWidget>
#include <QVBoxLayout>

namespace lidistill::ui {

namespace {

QString plainText(QString text) {
    text.remove(QRegularExpression(QStringLiteral("&(?!&)")));
    text.replace(QStringLiteral("&&"), QStringLiteral("&"));
    while (text.endsWith(QLatin1Char('.'))) text.chop(1);
    return text;
}

void collect(const QMenu* menu, const QString& group, QList<ShortcutEntry>& out) {
    for (const QAction* a : menu->actions()) {
        if (a->menu()) {
            collect(a->menu(), group, out);
            continue;
        }
        if (a->isSeparator() || a->shortcuts().isEmpty()) continue;
        QStringList keys;
        for (const QKeySequence& k : a->shortcuts()) keys << k.toString(QKeySequence::NativeText);
        out.append({group, keys.join(QStringLiteral(" / ")), plainText(a->text())});
    }
}

}  // namespace

QList<ShortcutEntry> shortcutEntries(const QMenuBar* menuBar) {
    QList<ShortcutEntry> out;
    for (const QAction* top : menuBar->actions()) {
        if (top->menu()) collect(top->menu(), plainText(top->text()), out);
    }
    return out;
}

QList<ShortcutEntry> mouseEntries() {
    const QString mouse = QObject::tr("Mouse");
    return {
        {mouse, QObject::tr("Left drag"), QObject::tr("Orbit around the centre of rotation")},
        {mouse, QObject::tr("Middle drag / Shift+Left drag"), QObject::tr("Pan")},
        {mouse, QObject::tr("Wheel / Right drag"), QObject::tr("Zoom")},
        {mouse, QObject::tr("Ctrl+Left drag"), QObject::tr("Roll")},
        {mouse, QObject::tr("Click on a point"),
         QObject::tr("Show its x, y, z, range, intensity and class in the status bar")},
        {mouse, QObject::tr("Double-click on a point"),
         QObject::tr("Make it the centre of rotation")},
        {mouse, QObject::tr("Drop a folder or scan file"), QObject::tr("Open it")},
    };
}

ShortcutHelpDialog::ShortcutHelpDialog(QWidget* parent)
    : QDialog(parent), m_table(new QTableWidget(0, 3, this)) {
    setWindowTitle(tr("Keyboard and mouse"));
    m_table->setHorizontalHeaderLabels({tr("Where"), tr("Keys"), tr("What")});
    m_table->verticalHeader()->hide();
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionMode(QAbstractItemView::NoSelection);
    m_table->horizontalHeader()->setStretchLastSection(true);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::close);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_table);
    layout->addWidget(buttons);
    resize(560, 620);
}

void ShortcutHelpDialog::setEntries(const QList<ShortcutEntry>& entries) {
    m_table->setRowCount(static_cast<int>(entries.size()));
    for (int row = 0; row < entries.size(); ++row) {
        const ShortcutEntry& e = entries[row];
        m_table->setItem(row, 0, new QTableWidgetItem(e.group));
        auto* keys = new QTableWidgetItem(e.keys);
        QFont bold = keys->font();
        bold.setBold(true);
        keys->setFont(bold);
        m_table->setItem(row, 1, keys);
        m_table->setItem(row, 2, new QTableWidgetItem(e.action));
    }
    m_table->resizeColumnsToContents();
}

}  // namespace lidistill::ui
