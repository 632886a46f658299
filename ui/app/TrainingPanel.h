#pragma once
// SPDX-License-Identifier: MIT

#include "ui/workers/TrainingRun.h"

#include <QString>
#include <QWidget>

#include <functional>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QTimer;

namespace lidistill::ui {

class SequenceSession;
class TrainingCharts;

/// The studio's Distillation-DPO training panel: the options of a `lidistill train-dpo` run
/// (teacher, sequence, output folder, steps, lr, lambda, objective, device, seed, checkpoint
/// and validation, sampling sizes), Start / Stop / Resume, "Open run folder..." to follow a run
/// started earlier, a status line and live plots (TrainingCharts).
///
/// The run is a TrainingRun: a detached `lidistill` process that outlives the panel and the
/// studio; destroying the panel leaves it running, and openRunFolder() finds it again. The
/// sequence defaults to the one open in `session` (until the user picks another). Opening a
/// run folder fills the options from its run.json, so that Resume continues it as it was
/// started. GUI thread only.
class TrainingPanel : public QWidget {
    Q_OBJECT

public:
    /// `session` (may be null) supplies the default sequence.
    explicit TrainingPanel(SequenceSession* session, QWidget* parent = nullptr);
    /// Leaves a running training process alone (it is detached).
    ~TrainingPanel() override;

    /// The options as the widgets say.
    TrainingSettings settings() const;
    /// Puts `settings` into the widgets.
    void setSettings(const TrainingSettings& settings);
    /// The `lidistill` program Start runs (default CliProcess::defaultProgram()).
    void setProgram(const QString& program);

    TrainingRun* run() const noexcept { return m_run; }
    TrainingCharts* charts() const noexcept { return m_charts; }
    QPushButton* startButton() const noexcept { return m_start; }
    QPushButton* stopButton() const noexcept { return m_stop; }
    QPushButton* resumeButton() const noexcept { return m_resume; }
    /// "Use the latest student in the completion panel".
    QPushButton* studentButton() const noexcept { return m_useStudent; }
    /// What Start does when the output folder already holds a run.
    enum class ReuseChoice { Cancel, Resume, StartOver };
    /// Replaces the question asked then (a message box by default; tests answer it).
    void setReuseQuestion(std::function<ReuseChoice(const QString& dir)> ask);
    /// The status line ("running: step 12 of 1000, 2.1 steps/s", "failed: ..." with the end
    /// of train.log).
    QString statusText() const;

public Q_SLOTS:
    /// Starts a fresh run with settings() (a new folder under the app data folder when the
    /// output folder is empty). A folder that holds a run is only started over (--force) or
    /// resumed when the user says so. @return false, with the reason in the status line, when the
    /// options are incomplete or the run cannot start.
    bool start();
    /// Continues the run in the output folder (--resume).
    bool resume();
    /// Stops the run after its current step (again: at once).
    void stop();
    /// Follows the run in `dir` (its history, and live if it still runs); a file dialog when
    /// `dir` is empty. @return whether `dir` holds a run.
    bool openRunFolder(const QString& dir = {});
    /// Overlays the run in `dir` (its metrics.jsonl, followed live) on the charts; a file dialog
    /// when `dir` is empty. @return whether `dir` holds a metrics log.
    bool compareRun(const QString& dir = {});
    /// Removes the compared runs.
    void clearComparedRuns();

Q_SIGNALS:
    /// The user asked to load `file` (the latest student) as the completion panel's student.
    void studentChosen(const QString& file);
    /// A run failed or a folder holds no run.
    void errorOccurred(const QString& message);

private:
    bool launch(bool resume, bool force = false);
    void updateStatus();
    void updateEnabled();
    void onStateChanged(TrainingState state);
    void loadRunJson(const QString& dir);

    std::function<ReuseChoice(const QString& dir)> m_askReuse;
    QList<MetricsLog*> m_compared;
    SequenceSession* m_session;
    TrainingRun* m_run;
    TrainingCharts* m_charts;
    QLineEdit* m_teacher;
    QLineEdit* m_sequence;
    QLineEdit* m_outDir;
    QSpinBox* m_steps;
    QDoubleSpinBox* m_lr;
    QDoubleSpinBox* m_lambda;
    QComboBox* m_objective;
    QComboBox* m_device;
    QSpinBox* m_seed;
    QSpinBox* m_checkpointEvery;
    QSpinBox* m_validateEvery;
    QSpinBox* m_validationFrame;
    QLineEdit* m_frames;
    QSpinBox* m_points;
    QSpinBox* m_fullPoints;
    QSpinBox* m_tile;
    QCheckBox* m_augment;
    QPushButton* m_start;
    QPushButton* m_stop;
    QPushButton* m_resume;
    QPushButton* m_open;
    QPushButton* m_useStudent;
    QLabel* m_status;
    QTimer* m_statusTimer;
    QString m_defaultSequence;  // the session's folder, while the user has not picked another
    QString m_statusText;
};

}  // namespace lidistill::ui
