#pragma once
// SPDX-License-Identifier: MIT

#include <QList>
#include <QPointF>
#include <QString>
#include <QWidget>

#include <array>
#include <vector>

class QChart;
class QChartView;
class QTableWidget;
class QXYSeries;
class QTimer;

namespace lidistill::ui {

class MetricsLog;

/// The curves of the training plots.
enum class TrainingCurve {
    GeneratorLoss = 0,  ///< loss_g
    AuxLoss,            ///< loss_aux
    WinnerChamfer,      ///< cd_winner, m
    LoserChamfer,       ///< cd_loser, m
    ValidationChamfer,  ///< val_cd, m (points)
};
inline constexpr int kTrainingCurveCount = 5;

/// What the horizontal axis counts.
enum class TrainingAxis { Step, WallTime };

/// Live plots of one or more MetricsLogs: generator and aux loss in one chart, winner / loser
/// Chamfer and the validation points in another; run 0 is the panel's own run, the others are
/// runs compared with it (each in its own colour; dashed: aux and loser). EMA smoothing as
/// TensorBoard does it (debiased), with the raw curve faint behind; x by step or by training
/// wall time; a table of last / min / max of every curve of every run. Updates are coalesced
/// (at most 10 a second) and replace whole series, never one append per sample; a long run is
/// thinned to maxPoints() per curve (every k-th step, the last one always kept) after the
/// smoothing. Qt Charts stays behind this class: callers see points(), not series. GUI thread.
class TrainingCharts : public QWidget {
    Q_OBJECT

public:
    explicit TrainingCharts(QWidget* parent = nullptr);
    ~TrainingCharts() override;

    /// Plots `log` as run 0 (null: nothing) and follows its changes. Logs must outlive this
    /// or be unset / removed first.
    void setLog(const MetricsLog* log);
    /// Adds a run to compare (named in the legend and the table). @return its index (>= 1).
    int addRun(const QString& name, const MetricsLog* log);
    /// Removes every compared run (run 0 stays).
    void clearComparedRuns();
    /// Runs shown, run 0 included.
    int runCount() const { return static_cast<int>(m_runs.size()); }

    /// Points per curve at most (default 4000).
    void setMaxPoints(int points) { m_maxPoints = points > 1 ? points : 2; }
    int maxPoints() const noexcept { return m_maxPoints; }
    /// EMA weight in [0, 0.999] (0: raw curves only).
    void setSmoothing(double weight);
    double smoothing() const noexcept { return m_smoothing; }
    void setAxis(TrainingAxis axis);
    TrainingAxis axis() const noexcept { return m_axis; }

    /// What `curve` of `run` shows now: the smoothed curve when smoothing is on (`raw`: the
    /// faint raw one behind it).
    QList<QPointF> points(TrainingCurve curve, int run = 0, bool raw = false) const;
    /// Rows: run x curve; columns: run, curve, last, min, max (of the whole log, unthinned).
    QTableWidget* summary() const noexcept { return m_table; }

public Q_SLOTS:
    /// Redraws from the logs at once (the coalescing timer calls it).
    void updateNow();

private:
    struct Run {
        QString name;
        const MetricsLog* log = nullptr;
        std::array<QXYSeries*, kTrainingCurveCount> shown{};  // smoothed (or raw) curves
        std::array<QXYSeries*, kTrainingCurveCount> raw{};    // faint raw behind smoothed ones
    };
    void scheduleUpdate();
    void follow(const MetricsLog* log);
    void createSeries(Run& run, int index);
    void removeSeries(Run& run);
    void updateTable();

    std::vector<Run> m_runs;  // [0]: the panel's run
    QChart* m_lossChart;
    QChart* m_cdChart;
    QTableWidget* m_table;
    QTimer* m_timer;
    int m_maxPoints = 4000;
    double m_smoothing = 0;
    TrainingAxis m_axis = TrainingAxis::Step;
};

/// TensorBoard's scalar smoothing: an exponential moving average with weight `weight`,
/// debiased so that the first points are not pulled towards zero; non-finite values are
/// passed through and skipped by the average.
QList<QPointF> smoothEma(const QList<QPointF>& points, double weight);

}  // namespace lidistill::ui
