// SPDX-License-Identifier: MIT
#include "ui/app/TrainingCharts.h"

#include "ui/models/MetricsLog.h"

#include <QChart>
#include <QChartView>
#include <QLineSeries>
#include <QScatterSeries>
#include <QTimer>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>
#include <cmath>
#include <limits>

namespace lidistill::ui {

namespace {
QChart* makeChart(const QString& title, const QString& yTitle) {
    auto* chart = new QChart;
    chart->setTitle(title);
    chart->legend()->setAlignment(Qt::AlignBottom);
    chart->setMargins(QMargins(2, 2, 2, 2));
    auto* x = new QValueAxis;
    x->setTitleText(QObject::tr("step"));
    x->setLabelFormat(QStringLiteral("%d"));
    auto* y = new QValueAxis;
    y->setTitleText(yTitle);
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    return chart;
}

void attach(QChart* chart, QXYSeries* series, const QString& name) {
    series->setName(name);
    chart->addSeries(series);
    series->attachAxis(chart->axes(Qt::Horizontal).constFirst());
    series->attachAxis(chart->axes(Qt::Vertical).constFirst());
}

// Axis ranges from the finite values of the chart's series, with a margin.
void fitAxes(QChart* chart) {
    double x0 = std::numeric_limits<double>::max(), x1 = -x0, y0 = x0, y1 = -x0;
    for (QAbstractSeries* s : chart->series()) {
        for (const QPointF& p : static_cast<QXYSeries*>(s)->points()) {
            if (!std::isfinite(p.y())) continue;
            x0 = std::min(x0, p.x());
            x1 = std::max(x1, p.x());
            y0 = std::min(y0, p.y());
            y1 = std::max(y1, p.y());
        }
    }
    if (x0 > x1) {
        x0 = 0, x1 = 1, y0 = 0, y1 = 1;
    }
    if (x1 - x0 < 1) x1 = x0 + 1;
    const double pad = y1 > y0 ? 0.05 * (y1 - y0) : std::max(1e-6, 0.05 * std::abs(y0));
    chart->axes(Qt::Horizontal).constFirst()->setRange(x0, x1);
    chart->axes(Qt::Vertical).constFirst()->setRange(y0 - pad, y1 + pad);
}

// Every k-th of n entries so that at most `max` remain, the last always kept.
template <typename T, typename F>
QList<QPointF> thin(const QVector<T>& v, int max, F value) {
    QList<QPointF> out;
    const qsizetype n = v.size();
    const qsizetype stride = n > max ? (n + max - 2) / (max - 1) : 1;
    out.reserve(n / stride + 1);
    for (qsizetype i = 0; i < n; i += stride) {
        const double y = value(v[i]);
        if (std::isfinite(y)) out.append(QPointF(v[i].step, y));
    }
    if (n > 0 && (n - 1) % stride != 0) {
        const double y = value(v[n - 1]);
        if (std::isfinite(y)) out.append(QPointF(v[n - 1].step, y));
    }
    return out;
}
}  // namespace

TrainingCharts::TrainingCharts(QWidget* parent)
    : QWidget(parent),
      m_lossChart(makeChart(tr("Loss"), tr("loss"))),
      m_cdChart(makeChart(tr("Chamfer distance"), tr("m"))),
      m_timer(new QTimer(this)) {
    m_series[int(TrainingCurve::GeneratorLoss)] = new QLineSeries;
    m_series[int(TrainingCurve::AuxLoss)] = new QLineSeries;
    m_series[int(TrainingCurve::WinnerChamfer)] = new QLineSeries;
    m_series[int(TrainingCurve::LoserChamfer)] = new QLineSeries;
    auto* val = new QScatterSeries;
    val->setMarkerSize(8);
    m_series[int(TrainingCurve::ValidationChamfer)] = val;
    attach(m_lossChart, m_series[int(TrainingCurve::GeneratorLoss)], tr("generator"));
    attach(m_lossChart, m_series[int(TrainingCurve::AuxLoss)], tr("aux (fake score)"));
    attach(m_cdChart, m_series[int(TrainingCurve::WinnerChamfer)], tr("winner"));
    attach(m_cdChart, m_series[int(TrainingCurve::LoserChamfer)], tr("loser"));
    attach(m_cdChart, val, tr("validation"));

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    for (QChart* chart : {m_lossChart, m_cdChart}) {
        auto* view = new QChartView(chart, this);
        view->setRenderHint(QPainter::Antialiasing);
        view->setMinimumHeight(160);
        layout->addWidget(view);
    }
    m_timer->setSingleShot(true);
    m_timer->setInterval(100);
    connect(m_timer, &QTimer::timeout, this, &TrainingCharts::updateNow);
}

TrainingCharts::~TrainingCharts() = default;

void TrainingCharts::setLog(const MetricsLog* log) {
    if (m_log) disconnect(m_log, nullptr, this, nullptr);
    m_log = log;
    if (m_log) {
        connect(m_log, &MetricsLog::appended, this, &TrainingCharts::scheduleUpdate);
        connect(m_log, &MetricsLog::cleared, this, &TrainingCharts::scheduleUpdate);
        connect(m_log, &QObject::destroyed, this, [this] { setLog(nullptr); });
    }
    updateNow();
}

void TrainingCharts::scheduleUpdate() {
    if (!m_timer->isActive()) m_timer->start();
}

void TrainingCharts::updateNow() {
    m_timer->stop();
    static const QVector<TrainStepMetrics> kNoSteps;
    static const QVector<ValidationMetrics> kNoValidations;
    const auto& steps = m_log ? m_log->steps() : kNoSteps;
    const auto& vals = m_log ? m_log->validations() : kNoValidations;
    const int n = m_maxPoints;
    m_series[int(TrainingCurve::GeneratorLoss)]->replace(
        thin(steps, n, [](const TrainStepMetrics& m) { return m.lossG; }));
    m_series[int(TrainingCurve::AuxLoss)]->replace(
        thin(steps, n, [](const TrainStepMetrics& m) { return m.lossAux; }));
    m_series[int(TrainingCurve::WinnerChamfer)]->replace(
        thin(steps, n, [](const TrainStepMetrics& m) { return m.cdWinner; }));
    m_series[int(TrainingCurve::LoserChamfer)]->replace(
        thin(steps, n, [](const TrainStepMetrics& m) { return m.cdLoser; }));
    m_series[int(TrainingCurve::ValidationChamfer)]->replace(
        thin(vals, n, [](const ValidationMetrics& v) { return v.cd; }));
    fitAxes(m_lossChart);
    fitAxes(m_cdChart);
}

QList<QPointF> TrainingCharts::points(TrainingCurve curve) const {
    return m_series[int(curve)]->points();
}

}  // namespace lidistill::ui
