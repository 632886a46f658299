#pragma once
// SPDX-License-Identifier: MIT

#include "ui/render/PointCloudView.h"

#include <QMainWindow>
#include <QString>

class QComboBox;
class QLabel;
class QListView;
class QProgressBar;

namespace lidistill::ui {

class SequenceSession;
struct FrameData;

/// The studio window: a frame list, the "Scan" and "Ground truth" views side by side with
/// one camera, a colour-mode box and a status bar. It only assembles widgets and actions;
/// loading lives in SequenceSession.
///
/// Keys: N / Right next frame, B / Left previous, R reset view, + / - point size,
/// C next colour mode, Ctrl+O open, F1 help. A folder dropped on the window is opened.
/// Errors go to the status bar and a non-modal message box. GUI thread only.
class MainWindow : public QMainWindow {
    Q_OBJECT

public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    SequenceSession* session() const noexcept { return m_session; }
    PointCloudView* scanView() const noexcept { return m_scanView; }
    PointCloudView* groundTruthView() const noexcept { return m_gtView; }
    QListView* frameList() const noexcept { return m_frameList; }
    /// Whether errors also pop up a message box (tests turn it off; the status bar and
    /// errorShown() report them either way).
    void setErrorDialogsEnabled(bool enabled) { m_errorDialogs = enabled; }

public Q_SLOTS:
    /// Opens a sequence folder (as File > Open, a drop, or the command line do).
    bool openSequence(const QString& dir);
    void nextFrame();
    void previousFrame();
    void setColorMode(lidistill::ui::ColorMode mode);

Q_SIGNALS:
    /// A frame was put on screen; withGroundTruth when its crop is shown too.
    void frameShown(int index, bool withGroundTruth);
    void errorShown(const QString& message);

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;
    void closeEvent(QCloseEvent* event) override;

private:
    void buildActions();
    void showFrame(const FrameData& frame);
    void showError(const QString& message);
    void selectRow(int row);
    void updateTitle();

    SequenceSession* m_session;
    PointCloudView* m_scanView;
    PointCloudView* m_gtView;
    QListView* m_frameList;
    QComboBox* m_colorBox;
    QLabel* m_frameLabel;
    QLabel* m_mapLabel;
    QProgressBar* m_mapProgress;
    bool m_errorDialogs = true;
};

}  // namespace lidistill::ui
