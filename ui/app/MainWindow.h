#pragma once
// SPDX-License-Identifier: MIT

#include "core/io/ScanIo.h"
#include "ui/render/PointCloudView.h"

#include <QMainWindow>
#include <QString>

#include <array>
#include <vector>

class QAction;
class QComboBox;
class QDockWidget;
class QLabel;
class QListView;
class QProgressBar;
class QStackedWidget;

namespace lidistill::ui {

class ColorScaleControls;
class CompletionPanel;
class CurationPanel;
class SequenceSession;
class ShortcutHelpDialog;
class TrainingPanel;
struct FrameData;

/// The studio window: a frame list, the "Scan" and "Ground truth" views side by side with
/// one camera, a colour-mode box and a status bar. It only assembles widgets and actions;
/// loading lives in SequenceSession. The completion panel (a dock, K) runs a teacher and a
/// student model on the frame (CompletionPanel); while it is shown, a second row of views
/// holds their results under the scan and the ground truth, on the same camera.
///
/// Keys: N / Right next frame, B / Left previous, R reset view, + / - point size,
/// C next colour mode, M next colormap, L fix / free the colour range, Ctrl+O open, F1 / H
/// help (the help lists every action's shortcut, read from the actions themselves), K the
/// completion panel, Ctrl+R runs both models, Ctrl+. stops them, D the Distillation-DPO
/// training panel (TrainingPanel: detached `lidistill train-dpo` runs that outlive the
/// window, live plots; its latest student can go to the completion panel), G the Curate
/// workspace (CurationPanel: preference pairs judged side by side; a page that replaces the
/// frame list and views, so its keys 1 / 2 / 3 / Left / Right / N / B decide pairs there:
/// while it is shown the frame keys and the front / side presets are off, and the View menu's
/// camera, point-size and screenshot actions act on its views). A click
/// on a point shows its values in the status bar (pointReadout()). A folder or scan file
/// dropped on the window is opened. nuScenes sweeps are shown in KITTI axes unless the View
/// menu says otherwise. Errors go to the status bar and a non-modal message box.
/// GUI thread only.
class MainWindow : public QMainWindow {
    Q_OBJECT

public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    SequenceSession* session() const noexcept { return m_session; }
    PointCloudView* scanView() const noexcept { return m_scanView; }
    PointCloudView* groundTruthView() const noexcept { return m_gtView; }
    PointCloudView* teacherView() const noexcept { return m_teacherView; }
    PointCloudView* studentView() const noexcept { return m_studentView; }
    /// The teacher / student completion panel (in completionDock(), hidden at first).
    CompletionPanel* completionPanel() const noexcept { return m_completion; }
    QDockWidget* completionDock() const noexcept { return m_completionDock; }
    /// The training panel (in trainingDock(), hidden at first).
    TrainingPanel* trainingPanel() const noexcept { return m_training; }
    QDockWidget* trainingDock() const noexcept { return m_trainingDock; }
    /// The Curate workspace (a page of the central widget, hidden at first).
    CurationPanel* curationPanel() const noexcept { return m_curation; }
    /// Whether the Curate workspace is shown instead of the frame views.
    bool isCurating() const;
    QListView* frameList() const noexcept { return m_frameList; }
    /// The widget holding the views (scan | ground truth, and teacher | student while the
    /// completion panel is shown): what screenshots capture.
    QWidget* viewsWidget() const noexcept { return m_views; }
    /// Folder for P screenshots (default: defaultScreenshotFolder()).
    void setScreenshotFolder(const QString& folder) { m_screenshotFolder = folder; }
    /// Whether errors also pop up a message box (tests turn it off; the status bar and
    /// errorShown() report them either way).
    void setErrorDialogsEnabled(bool enabled) { m_errorDialogs = enabled; }
    /// The key and mouse reference, once showHelp() has created it (else null).
    ShortcutHelpDialog* helpDialog() const noexcept { return m_help; }
    /// Colormap and colour-range controls of both views.
    ColorScaleControls* colorScale() const noexcept { return m_colorScale; }
    /// What the last click on a point said ("Scan: point 12: x ..."), empty when none.
    QString pointReadout() const;

public Q_SLOTS:
    /// Opens a sequence folder (as File > Open, a drop, or the command line do).
    bool openSequence(const QString& dir);
    /// Opens a single scan file (File > Open file, a dropped file, the command line).
    bool openFile(const QString& file);
    /// Selects frame `row` in the list, which loads and shows it (out-of-range rows are ignored).
    void selectRow(int row);
    void nextFrame();
    void previousFrame();
    void setColorMode(lidistill::ui::ColorMode mode);
    /// Colormap of the scalar modes in both views (as the toolbar box and M do).
    void setColormap(lidistill::ui::Colormap map);
    /// Fixes (or, with nothing, frees) the colour range of scalar `mode` in both views.
    /// @throws InvalidArgument as PointCloudView::setFixedRange().
    void setFixedRange(lidistill::ui::ColorMode mode,
                       std::optional<lidistill::ui::ColorRange> range);
    /// How nuScenes sweeps are shown (View menu; default io::NuscenesAxes::KittiFrame).
    void setNuscenesAxes(lidistill::io::NuscenesAxes axes);
    /// Saves a PNG of the views (and the camera JSON beside it) to `file`, or to a new name
    /// in the screenshot folder when `file` is empty; reports in the status bar.
    /// @return the file written, or an empty string on failure (shown as an error).
    QString saveScreenshot(const QString& file = {});
    /// Puts the shared camera on the clipboard as JSON text (cameraToJson()).
    void copyCamera();
    /// Applies camera JSON from the clipboard; bad text leaves the camera alone and says why
    /// in the status bar. @return whether the camera changed.
    bool pasteCamera();
    /// Shows the key and mouse reference (F1 or H), generated from the window's actions.
    void showHelp();
    /// Shows the Curate workspace (true) or the frame views (false), as G does.
    void setCurationMode(bool on);
    /// Opens a pair store in the Curate workspace and shows it. @return whether it opened.
    bool openPairStore(const QString& file);

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
    void updateTitle();
    void showPick(const PointCloudView* view, const PickedPoint& point);
    /// What the ground-truth view says when the open content cannot have ground truth.
    QString groundTruthUnavailableReason() const;
    /// Every view, for settings that apply to all of them (point size, background, ...).
    std::array<PointCloudView*, 4> allViews() const {
        return {m_scanView, m_gtView, m_teacherView, m_studentView};
    }
    void buildCompletionDock();
    void buildTrainingDock();
    void buildCurateMenu();
    /// The view whose camera the View menu drives: the scan's, or the left candidate's while
    /// curating (all views of a page share one camera).
    PointCloudView* cameraView() const;
    /// allViews() and the Curate workspace's views: point size, background, axes, legend.
    std::vector<PointCloudView*> everyView() const;

    SequenceSession* m_session;
    PointCloudView* m_scanView;
    PointCloudView* m_gtView;
    PointCloudView* m_teacherView;
    PointCloudView* m_studentView;
    QListView* m_frameList;
    QWidget* m_views;
    QString m_screenshotFolder;
    ShortcutHelpDialog* m_help = nullptr;
    QComboBox* m_colorBox;
    ColorScaleControls* m_colorScale;
    CompletionPanel* m_completion = nullptr;
    QDockWidget* m_completionDock = nullptr;
    QWidget* m_resultRow = nullptr;
    TrainingPanel* m_training = nullptr;
    QDockWidget* m_trainingDock = nullptr;
    CurationPanel* m_curation = nullptr;
    QStackedWidget* m_pages = nullptr;
    QAction* m_curateAction = nullptr;
    QList<QAction*> m_frameKeys;  // off while curating: their keys decide pairs there
    QAction* m_nuscenesKitti = nullptr;
    QLabel* m_frameLabel;
    QLabel* m_pickLabel;
    QLabel* m_mapLabel;
    QProgressBar* m_mapProgress;
    bool m_errorDialogs = true;
};

}  // namespace lidistill::ui
