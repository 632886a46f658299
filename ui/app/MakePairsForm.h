#pragma once
// SPDX-License-Identifier: MIT

#include "ui/workers/CliProcess.h"

#include <QGroupBox>
#include <QString>
#include <QStringList>

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace lidistill::ui {

/// The options of one `lidistill pairs make` run.
struct MakePairsSettings {
    QString model;     ///< model file (default: the shipped student)
    QString sequence;  ///< sequence folder
    QString store;     ///< pair store file
    int first = 0;     ///< frames first .. last - 1
    int last = 1;
    int steps = 0;                           ///< --steps; 0: the model file's sampling
    double lambda = 1.1;                     ///< --lambda: noise scale of candidate B
    int points = 0;                          ///< --points; 0: the model's scale
    QString device = QStringLiteral("cpu");  ///< cpu or cuda
};

/// "pairs make MODEL SEQ STORE --frames A:B --lambda L --device D [--steps N] [--points N]"
/// (unset options left out: the model's).
QStringList makePairsArguments(const MakePairsSettings& settings);

/// Parses "A:B" (frames A .. B-1 of a sequence of `frameCount` frames) into first / last.
/// @return false, leaving them alone, for other text or a range outside 0..frameCount.
bool parseFrameRange(const QString& text, int frameCount, int& first, int& last);

/// The workspace's "Make pairs" form: model file, frames A:B of the open sequence, steps,
/// lambda, points and device, a Start / Cancel button and a progress bar. Start runs
/// `lidistill pairs make` in a CliProcess (the JSON-lines events of core/base/Events.h, as the
/// completion panel's runs): progress drives the bar, each "metrics" event with a "pair" id
/// is a pair just stored (pairStored()), the error event's message is the failure. Cancel
/// stops the program at its next checkpoint; the pairs it stored stay. GUI thread only.
class MakePairsForm : public QGroupBox {
    Q_OBJECT

public:
    explicit MakePairsForm(QWidget* parent = nullptr);

    /// The sequence pairs are made from (the one the studio has open); empty disables Start.
    void setSequence(const QString& dir, int frameCount);
    /// The store pairs go to (the workspace's); empty disables Start.
    void setStore(const QString& file);
    /// The options as the widgets say (sequence and store as set).
    MakePairsSettings settings() const;
    /// Puts `settings`' model, frames, steps, lambda, points and device into the widgets.
    void setSettings(const MakePairsSettings& settings);

    CliProcess* process() const noexcept { return m_process; }
    bool isRunning() const { return m_process->isRunning(); }
    QPushButton* startButton() const noexcept { return m_start; }
    QProgressBar* progressBar() const noexcept { return m_progress; }
    QLineEdit* framesEdit() const noexcept { return m_frames; }
    /// The last outcome in words ("Made 3 pairs.", "Failed: ...", "Cancelled: 2 pairs kept.").
    QString statusText() const;

public Q_SLOTS:
    /// Starts the run. @return false (the status line says why) without a model, a sequence
    /// or a store, with a bad frame range, or while a run goes on.
    bool start();
    /// Cancels the run (pairs already stored stay).
    void cancel();

Q_SIGNALS:
    /// Pair `id` has just been stored by the running program.
    void pairStored(qlonglong id);
    void runningChanged(bool running);
    /// The run ended (message: empty on success, the CLI's error, or "cancelled").
    void finished(lidistill::ui::CliOutcome outcome, const QString& message);

private:
    void onFinished(CliOutcome outcome, const QString& message);
    void updateEnabled();

    CliProcess* m_process;
    QLineEdit* m_model;
    QLineEdit* m_frames;
    QSpinBox* m_steps;
    QDoubleSpinBox* m_lambda;
    QSpinBox* m_points;
    QComboBox* m_device;
    QPushButton* m_start;
    QProgressBar* m_progress;
    QLabel* m_status;
    QString m_sequence;
    QString m_store;
    int m_frameCount = 0;
    int m_stored = 0;  // pairs stored by the current (or last) run
};

}  // namespace lidistill::ui
