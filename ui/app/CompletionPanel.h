#pragma once
// SPDX-License-Identifier: MIT

#include "ui/app/CompletionSlot.h"

#include <QString>
#include <QTemporaryDir>
#include <QWidget>

#include <array>
#include <memory>

class QLabel;
class QTableWidget;

namespace lidistill::ui {

class PointCloudView;
class SequenceSession;
struct FrameData;
struct LoadedCompletion;

/// The studio's teacher / student comparison: two CompletionSlot (Teacher, Student) that run
/// `lidistill complete` on the frame on screen, the two result views they fill, and a table
/// of metrics against the frame's ground truth.
///
/// Outputs go to a per-session temporary folder (outputFolder(), removed with the panel),
/// one file per frame and model. A result belongs to its frame: showing another frame clears
/// the result views (or shows that frame's earlier results again), and a run that ends after
/// the user moved on is kept for when its frame comes back. Reading a result and scoring it
/// (core's evaluateScan against the §7.1 ground truth crop, as `lidistill eval --sequence`)
/// run on QtConcurrent workers; the GUI thread only swaps finished data in. Without poses and
/// labels (or for a single file) the table says there is no ground truth; while the map is
/// being built it says so and scores once the map is ready. GUI thread only.
class CompletionPanel : public QWidget {
    Q_OBJECT

public:
    /// Columns of metricsTable(); rows are Teacher and Student (CompletionRole).
    enum Column {
        PointsColumn,     ///< points of the result
        TimeColumn,       ///< wall time of the run, s (model load included)
        ChamferColumn,    ///< Chamfer distance, m (0.5 (GT->pred + pred->GT))
        JsdBevColumn,     ///< Jensen-Shannon distance of BEV occupancy
        Iou05Column,      ///< completion IoU at 0.5 m voxels, %
        Iou02Column,      ///< at 0.2 m, %
        Iou01Column,      ///< at 0.1 m, %
        PrecisionColumn,  ///< precision AUC over 0.05-0.10 m, %
        RecallColumn,     ///< recall AUC, %
        FScoreColumn,     ///< F-score AUC, %
        ColumnCount
    };

    /// `teacherView` and `studentView` show the results (the panel sets their clouds and
    /// messages; the caller places them and links their cameras).
    CompletionPanel(SequenceSession* session, PointCloudView* teacherView,
                    PointCloudView* studentView, QWidget* parent = nullptr);
    /// Stops running completions and waits for the reading / scoring workers.
    ~CompletionPanel() override;

    CompletionSlot* slot(CompletionRole role) const { return m_slots[index(role)]; }
    PointCloudView* view(CompletionRole role) const { return m_views[index(role)]; }
    QTableWidget* metricsTable() const noexcept { return m_table; }
    /// The per-session folder the outputs are written to.
    QString outputFolder() const { return m_outputDir.path(); }
    /// The frame the panel follows (the one on screen), -1 before the first.
    int frame() const noexcept { return m_frame; }
    /// The result file shown for `role` on the current frame, or an empty string.
    QString resultFile(CompletionRole role) const;
    /// The `lidistill` program both slots run (default CliProcess::defaultProgram()).
    void setProgram(const QString& program);
    /// Runs the slots' workers as `PREFIX... PROGRAM worker` (e.g. {"ssh", "gpu-box"}, with
    /// PROGRAM as that machine names lidistill): models and scans then travel to them.
    void setWorkerCommand(const QStringList& prefix, const QString& program);

public Q_SLOTS:
    /// Runs both models on the current frame (each that has a model and is idle).
    void runBoth();
    /// Stops both runs.
    void stopAll();

Q_SIGNALS:
    /// `role`'s result for `frame` is in its view.
    void resultShown(lidistill::ui::CompletionRole role, int frame);
    /// `role`'s metrics row for `frame` is filled in (or says why it cannot be).
    void metricsShown(lidistill::ui::CompletionRole role, int frame);
    /// A run or a result read failed (the slot's status line says it too).
    void errorOccurred(const QString& message);

private:
    struct RoleState;
    static std::size_t index(CompletionRole role) { return static_cast<std::size_t>(role); }

    void onFrameLoaded(const FrameData& frame);
    void onOpened();
    void onCompleted(CompletionRole role, int frame, const QString& file, double seconds);
    void showStored(CompletionRole role);
    void startLoad(CompletionRole role, const QString& file);
    void onLoaded(CompletionRole role);
    void startScoring(CompletionRole role);
    void onScored(CompletionRole role);
    /// Why the current frame cannot be scored now, or an empty string if it can.
    QString groundTruthUnavailable() const;
    void setRowMessage(CompletionRole role, const QString& message);
    void setCell(CompletionRole role, int column, const QString& text);
    void clearRow(CompletionRole role);
    void unspan(CompletionRole role);
    void setCloudKeepingCamera(PointCloudView* view, LoadedCompletion& loaded);

    SequenceSession* m_session;
    std::array<CompletionSlot*, 2> m_slots{};
    std::array<PointCloudView*, 2> m_views{};
    std::array<std::unique_ptr<RoleState>, 2> m_state;
    QTableWidget* m_table;
    QLabel* m_folderLabel;
    QTemporaryDir m_outputDir;
    int m_frame = -1;
    QString m_frameName;
    int m_generation = 0;  // bumped when another sequence or file opens
};

}  // namespace lidistill::ui

Q_DECLARE_METATYPE(lidistill::ui::CompletionRole)
