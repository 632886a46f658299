// SPDX-License-Identifier: MIT
#include "ui/app/TrainingCharts.h"

#include "ui/models/MetricsLog.h"

#include <QChart>
#include <QChartView>
#include <QHeaderView>
#include <QLegendMarker>
#include <QLineSeries>
#include <QScatterSeries>
#include <QTableWidget>
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
    x->setLabelFormat(QStringLiteral("%g"));
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
    if (x1 - x0 < 1e-9) x1 = x0 + 1;
    const double pad = y1 > y0 ? 0.05 * (y1 - y0) : std::max(1e-6, 0.05 * std::abs(y0));
    chart->axes(Qt::Horizontal).constFirst()->setRange(x0, x1);
    chart->axes(Qt::Vertical).constFirst()->setRange(y0 - pad, y1 + pad);
}

// All entries with a finite value, x by step or training seconds.
template <typename T, typename F>
QList<QPointF> series(const QVector<T>& v, TrainingAxis axis, F value) {
    QList<QPointF> out;
    out.reserve(v.size());
    for (const T& e : v) {
        const double y = value(e);
        if (std::isfinite(y)) out.append(QPointF(axis == TrainingAxis::Step ? e.step : e.seconds, y));
    }
    return out;
}

// Every k-th point so that at most `max` remain, the last always kept.
QList<QPointF> thin(const QList<QPointF>& v, int max) {
    const qsizetype n = v.size();
    if (n <= max) return v;
    const qsizetype stride = (n + max - 2) / (max - 1);
    QList<QPointF> out;
    for (qsizetype i = 0; i < n; i += stride) out.append(v[i]);
    if ((n - 1) % stride != 0) out.append(v[n - 1]);
    return out;
}

const char* curveName(int c) {
    static const char* names[kTrainingCurveCount] = {"loss_g", "loss_aux", "cd_winner",
                                                     "cd_loser", "val_cd"};
    return names[c];
}

QColor runColor(int run) {
    static const QColor colors[] = {QColor(31, 119, 180), QColor(255, 127, 14),
                                    QColor(44, 160, 44),  QColor(214, 39, 40),
                                    QColor(148, 103, 189), QColor(140, 86, 75)};
    return colors[run % 6];
}

QList<QPointF> curvePoints(const MetricsLog* log, int c, TrainingAxis axis) {
    if (!log) return {};
    if (c == int(TrainingCurve::ValidationChamfer)) {
        return series(log->validations(), axis, [](const ValidationMetrics& v) { return v.cd; });
    }
    return series(log->steps(), axis, [c](const TrainStepMetrics& m) {
        switch (static_cast<TrainingCurve>(c)) {
            case TrainingCurve::GeneratorLoss:
                return m.lossG;
            case TrainingCurve::AuxLoss:
                return m.lossAux;
            case TrainingCurve::WinnerChamfer:
                return m.cdWinner;
            case TrainingCurve::LoserChamfer:
                return m.cdLoser;
            default:
                return std::numeric_limits<double>::quiet_NaN();
        }
    });
}
}  // namespace

QList<QPointF> smoothEma(const QList<QPointF>& points, double weight) {
    QList<QPointF> out;
    out.reserve(points.size());
    double last = 0;
    double debias = 0;
    for (const QPointF& p : points) {
        if (!std::isfinite(p.y())) {
            out.append(p);
            continue;
        }
        last = last * weight + (1 - weight) * p.y();
        debias = debias * weight + (1 - weight);
        out.append(QPointF(p.x(), last / debias));
    }
    return out;
}

TrainingCharts::TrainingCharts(QWidget* parent)
    : QWidget(parent),
      m_lossChart(makeChart(tr("Loss"), tr("loss"))),
      m_cdChart(makeChart(tr("Chamfer distance"), tr("m"))),
      m_table(new QTableWidget(0, 5, this)),
      m_timer(new QTimer(this)) {
    m_table->setHorizontalHeaderLabels({tr("run"), tr("curve"), tr("last"), tr("min"), tr("max")});
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->setMaximumHeight(150);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    for (QChart* chart : {m_lossChart, m_cdChart}) {
        auto* view = new QChartView(chart, this);
        view->setRenderHint(QPainter::Antialiasing);
        view->setMinimumHeight(160);
        layout->addWidget(view);
    }
    layout->addWidget(m_table);
    m_timer->setSingleShot(true);
    m_timer->setInterval(100);
    connect(m_timer, &QTimer::timeout, this, &TrainingCharts::updateNow);
    m_runs.push_back(Run{tr("this run"), nullptr, {}, {}});
    createSeries(m_runs.front(), 0);
}

TrainingCharts::~TrainingCharts() = default;

void TrainingCharts::createSeries(Run& run, int index) {
    const QColor color = runColor(index);
    const QString prefix = index == 0 ? QString() : run.name + QStringLiteral(": ");
    static const char* labels[kTrainingCurveCount] = {
        QT_TR_NOOP("generator"), QT_TR_NOOP("aux (fake score)"), QT_TR_NOOP("winner"),
        QT_TR_NOOP("loser"), QT_TR_NOOP("validation")};
    for (int c = 0; c < kTrainingCurveCount; ++c) {
        QChart* chart = c <= int(TrainingCurve::AuxLoss) ? m_lossChart : m_cdChart;
        const bool dashed = c == int(TrainingCurve::AuxLoss) || c == int(TrainingCurve::LoserChamfer);
        if (c == int(TrainingCurve::ValidationChamfer)) {
            auto* val = new QScatterSeries;
            val->setMarkerSize(8);
            val->setColor(color);
            run.shown[c] = val;
            attach(chart, val, prefix + tr(labels[c]));
            continue;
        }
        auto* raw = new QLineSeries;
        QColor faint = color;
        faint.setAlpha(60);
        raw->setPen(QPen(faint, 1, dashed ? Qt::DashLine : Qt::SolidLine));
        attach(chart, raw, prefix + tr(labels[c]) + tr(" (raw)"));
        for (QLegendMarker* m : chart->legend()->markers(raw)) m->setVisible(false);
        run.raw[c] = raw;
        auto* shown = new QLineSeries;
        shown->setPen(QPen(color, 2, dashed ? Qt::DashLine : Qt::SolidLine));
        attach(chart, shown, prefix + tr(labels[c]));
        run.shown[c] = shown;
    }
}

void TrainingCharts::removeSeries(Run& run) {
    for (int c = 0; c < kTrainingCurveCount; ++c) {
        for (QXYSeries* s : {run.shown[c], run.raw[c]}) {
            if (!s) continue;
            s->chart()->removeSeries(s);
            delete s;
        }
    }
}

void TrainingCharts::follow(const MetricsLog* log) {
    if (!log) return;
    connect(log, &MetricsLog::appended, this, &TrainingCharts::scheduleUpdate,
            Qt::UniqueConnection);
    connect(log, &MetricsLog::cleared, this, &TrainingCharts::scheduleUpdate,
            Qt::UniqueConnection);
    connect(log, &QObject::destroyed, this, [this, log] {
        for (std::size_t r = 0; r < m_runs.size(); ++r) {
            if (m_runs[r].log == log) m_runs[r].log = nullptr;
        }
        scheduleUpdate();
    });
}

void TrainingCharts::setLog(const MetricsLog* log) {
    const MetricsLog* old = m_runs.front().log;
    if (old) {
        bool elsewhere = false;
        for (std::size_t r = 1; r < m_runs.size(); ++r) elsewhere = elsewhere || m_runs[r].log == old;
        if (!elsewhere) disconnect(old, nullptr, this, nullptr);
    }
    m_runs.front().log = log;
    follow(log);
    updateNow();
}

int TrainingCharts::addRun(const QString& name, const MetricsLog* log) {
    m_runs.push_back(Run{name, log, {}, {}});
    createSeries(m_runs.back(), static_cast<int>(m_runs.size()) - 1);
    follow(log);
    updateNow();
    return static_cast<int>(m_runs.size()) - 1;
}

void TrainingCharts::clearComparedRuns() {
    while (m_runs.size() > 1) {
        Run& r = m_runs.back();
        if (r.log && r.log != m_runs.front().log) disconnect(r.log, nullptr, this, nullptr);
        removeSeries(r);
        m_runs.pop_back();
    }
    updateNow();
}

void TrainingCharts::setSmoothing(double weight) {
    m_smoothing = std::clamp(std::isfinite(weight) ? weight : 0.0, 0.0, 0.999);
    updateNow();
}

void TrainingCharts::setAxis(TrainingAxis axis) {
    m_axis = axis;
    const QString title = axis == TrainingAxis::Step ? tr("step") : tr("training time [s]");
    for (QChart* chart : {m_lossChart, m_cdChart}) {
        chart->axes(Qt::Horizontal).constFirst()->setTitleText(title);
    }
    updateNow();
}

void TrainingCharts::scheduleUpdate() {
    if (!m_timer->isActive()) m_timer->start();
}

void TrainingCharts::updateNow() {
    m_timer->stop();
    const bool smooth = m_smoothing > 0;
    for (Run& run : m_runs) {
        for (int c = 0; c < kTrainingCurveCount; ++c) {
            const QList<QPointF> raw = curvePoints(run.log, c, m_axis);
            if (!run.raw[c]) {  // validation points: never smoothed
                run.shown[c]->replace(thin(raw, m_maxPoints));
                continue;
            }
            run.shown[c]->replace(thin(smooth ? smoothEma(raw, m_smoothing) : raw, m_maxPoints));
            run.raw[c]->replace(smooth ? thin(raw, m_maxPoints) : QList<QPointF>{});
        }
    }
    fitAxes(m_lossChart);
    fitAxes(m_cdChart);
    updateTable();
}

void TrainingCharts::updateTable() {
    int rows = 0;
    m_table->setRowCount(0);
    for (const Run& run : m_runs) {
        if (!run.log) continue;
        for (int c = 0; c < kTrainingCurveCount; ++c) {
            const QList<QPointF> pts = curvePoints(run.log, c, TrainingAxis::Step);
            if (pts.isEmpty()) continue;
            double lo = pts.first().y(), hi = lo;
            for (const QPointF& p : pts) {
                lo = std::min(lo, p.y());
                hi = std::max(hi, p.y());
            }
            m_table->insertRow(rows);
            const QStringList cells{run.name, QString::fromLatin1(curveName(c)),
                                    QString::number(pts.last().y(), 'g', 5),
                                    QString::number(lo, 'g', 5), QString::number(hi, 'g', 5)};
            for (int k = 0; k < cells.size(); ++k) {
                m_table->setItem(rows, k, new QTableWidgetItem(cells[k]));
            }
            ++rows;
        }
    }
}

QList<QPointF> TrainingCharts::points(TrainingCurve curve, int run, bool raw) const {
    if (run < 0 || run >= runCount()) return {};
    const Run& r = m_runs[static_cast<std::size_t>(run)];
    const int c = int(curve);
    if (raw) return r.raw[c] && m_smoothing > 0 ? r.raw[c]->points() : r.shown[c]->points();
    return r.shown[c]->points();
}

}  // namespace lidistill::ui
