// SPDX-License-Identifier: MIT
#include "ui/models/MetricsLog.h"

#include <QFile>
#include <QFileInfo>
#include <QFileSystemWatcher>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTimer>

#include <cmath>
#include <limits>
#include <sys/stat.h>

namespace lidistill::ui {

namespace {
constexpr qsizetype kHeadBytes = 256;

// nlohmann writes NaN and infinities as null.
double number(const QJsonObject& o, const char* key) {
    const QJsonValue v = o.value(QLatin1String(key));
    return v.isDouble() ? v.toDouble() : std::numeric_limits<double>::quiet_NaN();
}

bool parseObject(const QByteArray& text, QJsonObject& out) {
    QJsonParseError error{};
    const QJsonDocument doc = QJsonDocument::fromJson(text, &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject()) return false;
    out = doc.object();
    return out.value(QLatin1String("step")).isDouble();
}
}  // namespace

MetricsLog::MetricsLog(QObject* parent)
    : QObject(parent), m_watcher(new QFileSystemWatcher(this)), m_timer(new QTimer(this)) {
    m_timer->setInterval(500);
    connect(m_timer, &QTimer::timeout, this, &MetricsLog::poll);
    connect(m_watcher, &QFileSystemWatcher::fileChanged, this, &MetricsLog::poll);
    connect(m_watcher, &QFileSystemWatcher::directoryChanged, this, [this] {
        rewatch();  // the file may have been created or replaced
        poll();
    });
}

MetricsLog::~MetricsLog() = default;

void MetricsLog::setPollIntervalMs(int ms) {
    m_timer->setInterval(ms);
}

void MetricsLog::follow(const QString& file) {
    stopFollowing();
    m_file = QFileInfo(file).absoluteFilePath();
    reset();
    m_inode = m_device = 0;
    rewatch();
    m_timer->start();
    poll();
}

void MetricsLog::stopFollowing() {
    m_timer->stop();
    if (!m_watcher->files().isEmpty()) m_watcher->removePaths(m_watcher->files());
    if (!m_watcher->directories().isEmpty()) m_watcher->removePaths(m_watcher->directories());
}

void MetricsLog::rewatch() {
    if (m_file.isEmpty()) return;
    const QString dir = QFileInfo(m_file).absolutePath();
    if (!m_watcher->directories().contains(dir) && QFileInfo(dir).isDir()) {
        m_watcher->addPath(dir);
    }
    // A watch on a replaced file follows the old inode: watch the path again.
    if (!m_watcher->files().isEmpty()) m_watcher->removePaths(m_watcher->files());
    if (QFileInfo::exists(m_file)) m_watcher->addPath(m_file);
}

void MetricsLog::reset() {
    m_offset = 0;
    m_partial.clear();
    m_head.clear();
    clear();
}

void MetricsLog::clear() {
    m_steps.clear();
    m_validations.clear();
    m_malformed = 0;
    Q_EMIT cleared();
}

void MetricsLog::poll() {
    if (m_file.isEmpty()) return;
    struct stat st {};
    if (::stat(QFile::encodeName(m_file).constData(), &st) != 0) {
        // Gone (a fresh run removes it first): the next file starts a new series.
        if (m_offset > 0) reset();
        return;
    }
    QFile f(m_file);
    if (!f.open(QIODevice::ReadOnly)) return;
    // A removed file's inode is often reused at once by its replacement, so the first bytes
    // tell as well: a fresh run's first line differs (at least in its "seconds").
    const bool replaced =
        m_offset > 0 && (static_cast<quint64>(st.st_ino) != m_inode ||
                         static_cast<quint64>(st.st_dev) != m_device || st.st_size < m_offset ||
                         f.read(m_head.size()) != m_head);
    if (replaced) reset();
    m_inode = static_cast<quint64>(st.st_ino);
    m_device = static_cast<quint64>(st.st_dev);
    if (st.st_size == m_offset || !f.seek(m_offset)) return;
    const QByteArray added = f.readAll();
    if (m_head.size() < kHeadBytes) m_head += added.left(kHeadBytes - m_head.size());
    m_offset += added.size();
    m_partial += added;

    const int steps0 = static_cast<int>(m_steps.size());
    const int vals0 = static_cast<int>(m_validations.size());
    qsizetype start = 0;
    qsizetype nl;
    while ((nl = m_partial.indexOf('\n', start)) >= 0) {
        const QByteArray line = m_partial.mid(start, nl - start).trimmed();
        start = nl + 1;
        if (!line.isEmpty() && !addLine(line)) ++m_malformed;
    }
    m_partial.remove(0, start);
    const int newSteps = static_cast<int>(m_steps.size()) - steps0;
    const int newVals = static_cast<int>(m_validations.size()) - vals0;
    if (newSteps > 0 || newVals > 0) Q_EMIT appended(newSteps, newVals);
}

bool MetricsLog::addLine(const QByteArray& line) {
    QJsonObject o;
    if (!parseObject(line, o)) {
        // A line cut by a killed run, continued by the resumed one: keep the last object.
        const qsizetype last = line.lastIndexOf("{\"step\"");
        if (last <= 0 || !parseObject(line.mid(last), o)) return false;
    }
    const int step = o.value(QLatin1String("step")).toInt();
    if (o.contains(QLatin1String("loss_g"))) {
        TrainStepMetrics m;
        m.step = step;
        m.frame = o.value(QLatin1String("frame")).toString();
        m.lossG = number(o, "loss_g");
        m.lossAux = number(o, "loss_aux");
        m.cdWinner = number(o, "cd_winner");
        m.cdLoser = number(o, "cd_loser");
        m.gradG = number(o, "grad_g");
        m.gradAux = number(o, "grad_aux");
        const QJsonValue won = o.value(QLatin1String("scaled_won"));
        m.scaledWon = won.isBool() ? won.toBool() : won.toDouble() != 0.0;
        m.seconds = number(o, "seconds");
        m_steps.push_back(m);
        return true;
    }
    if (o.contains(QLatin1String("val_cd"))) {
        ValidationMetrics v;
        v.step = step;
        v.frame = o.value(QLatin1String("val_frame")).toString();
        v.cd = number(o, "val_cd");
        v.seconds = number(o, "seconds");
        m_validations.push_back(v);
        return true;
    }
    return false;
}

double MetricsLog::stepsPerSecond(int window) const {
    const auto n = m_steps.size();
    if (n < 2 || window < 1) return 0;
    // Walk back while the clock grows (a resumed run continues the training clock; runs of
    // earlier versions started it again at 0).
    qsizetype first = n - 1;
    while (first > 0 && n - first <= window &&
           m_steps[first - 1].seconds <= m_steps[first].seconds &&
           m_steps[first - 1].step < m_steps[first].step) {
        --first;
    }
    const auto& a = m_steps[first];
    const auto& b = m_steps[n - 1];
    const double dt = b.seconds - a.seconds;
    if (first == n - 1 || !(dt > 0)) return 0;
    return (b.step - a.step) / dt;
}

}  // namespace lidistill::ui
