#pragma once
// SPDX-License-Identifier: MIT

#include <QDialog>
#include <QList>
#include <QString>

class QMenuBar;
class QTableWidget;

namespace lidistill::ui {

/// One line of the key and mouse reference.
struct ShortcutEntry {
    QString group;   ///< the menu it lives in ("View"), or "Mouse"
    QString keys;    ///< "T", "N / Right", "Ctrl+C" (native text, alternatives joined by " / ")
    QString action;  ///< the action's text without mnemonics or trailing dots
};

/// Every action with a shortcut in `menuBar`'s menus and their submenus, in menu order. The
/// help is generated from the live actions, so it cannot drift from the real bindings.
QList<ShortcutEntry> shortcutEntries(const QMenuBar* menuBar);

/// What the mouse does in the views (VtkViewport's trackball style plus PointCloudView's
/// click readout and double-click pick), and drag and drop onto the window.
QList<ShortcutEntry> mouseEntries();

/// A non-modal reference of every key and mouse binding: a three-column table (where,
/// keys, what), filled from shortcutEntries() and mouseEntries(). GUI thread only.
class ShortcutHelpDialog : public QDialog {
    Q_OBJECT

public:
    explicit ShortcutHelpDialog(QWidget* parent = nullptr);

    /// Refills the table from `menuBar`'s current actions.
    void setEntries(const QList<ShortcutEntry>& entries);
    QTableWidget* table() const noexcept { return m_table; }

private:
    QTableWidget* m_table;
};

}  // namespace lidistill::ui
