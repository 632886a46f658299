#pragma once
// SPDX-License-Identifier: MIT

#include <QList>
#include <QPointF>
#include <QWidget>

#include <array>

class QChart;
class QChartView;
class QXYSeries;
class QTimer;

namespace lidistill::ui {

class MetricsLog;

/// The curves of the training plots (x: step).
enum class TrainingCurve {
    GeneratorLoss = 0,  ///< loss_g
    AuxLoss,            ///< loss_aux
    WinnerChamfer,      ///< cd_winner, m
    LoserChamfer,       ///< cd_loser, m
    ValidationChamfer,  ///< val_cd, m (points)
};
inline constexpr int kTrainingCurveCount = 5;

/// Live plots of a MetricsLog: generator and aux loss in one chart, winner / loser Chamfer and
/// the validation points in another. Updates are coalesced (at most 10 a second) and replace
/// whole series (QXYSeries::replace), never one append per sample; a long run is thinned to
/// maxPoints() per curve (every k-th step, the last one always kept). Qt Charts stays behind
/// this class (it is deprecated upstream): callers see points(), not series. GUI thread only.
class TrainingCharts : public QWidget {
    Q_OBJECT

public:
    explicit TrainingCharts(QWidget* parent = nullptr);
    ~TrainingCharts() override;

    /// Plots `log` (null: nothing) and follows its changes. The log must outlive this or be
    /// unset first.
    void setLog(const MetricsLog* log);
    /// Points per curve at most (default 4000).
    void setMaxPoints(int points) { m_maxPoints = points > 1 ? points : 2; }
    int maxPoints() const noexcept { return m_maxPoints; }
    /// What `curve` shows now.
    QList<QPointF> points(TrainingCurve curve) const;

public Q_SLOTS:
    /// Redraws from the log at once (the coalescing timer calls it).
    void updateNow();

private:
    void scheduleUpdate();

    const MetricsLog* m_log = nullptr;
    QChart* m_lossChart;
    QChart* m_cdChart;
    std::array<QXYSeries*, kTrainingCurveCount> m_series{};
    QTimer* m_timer;
    int m_maxPoints = 4000;
};

}  // namespace lidistill::ui
