// SPDX-License-Identifier: MIT
#include "ui/workers/PairMaking.h"

#include "core/base/AtomicFile.h"
#include "core/base/Progress.h"
#include "core/dataset/Sequence.h"
#include "core/map/SequenceMap.h"
#include "core/pairs/PairMaker.h"
#include "core/pairs/PairStore.h"

#include <QtConcurrent/QtConcurrentRun>

#include <exception>
#include <filesystem>

namespace lidistill::ui {
namespace fs = std::filesystem;

struct PairMaking::Run {
    MakePairsSettings s;
    std::atomic<bool> cancelled{false};
    // Prepared on a background thread: read there, then only by one task at a time.
    std::unique_ptr<Sequence> seq;
    std::unique_ptr<map::StaticMap> map;
    std::unique_ptr<pairs::PairStore> store;
    std::string hash, sequenceName;
    bool prepared = false;
    // The model as the worker describes it.
    QString describeJob;
    bool described = false;
    int steps = 0;
    double guidance = 0;
    map::GroundTruthOptions truth;
    // The frame in hand (k counts from s.first).
    int k = 0;
    int made = 0, kept = 0;
    pairs::Recipe recipe;
    QString jobs[2];
    std::optional<pairs::CandidateClouds> clouds[2];
    bool storing = false;
    long long storedId = 0;
    QString failure;  // set when a job failed: the run ends once nothing is in flight

    int frames() const { return s.last - s.first; }
    std::size_t frame() const { return static_cast<std::size_t>(s.first + k); }
};

namespace {

// Lets a long map build notice a cancel.
class CancelOnly final : public ProgressSink {
public:
    explicit CancelOnly(const std::atomic<bool>& flag) : m_flag(flag) {}
    void report(double, std::string_view) override {}
    bool cancelled() const override { return m_flag.load(); }

private:
    const std::atomic<bool>& m_flag;
};

// Core's errors name the file and the problem already.
QString describeError(const std::exception& e) {
    return QString::fromStdString(e.what());
}

}  // namespace

PairMaking::PairMaking(WorkerClient* worker, QObject* parent) : QObject(parent), m_worker(worker) {
    connect(m_worker, &WorkerClient::finished, this, &PairMaking::onWorkerFinished);
    connect(m_worker, &WorkerClient::progress, this, &PairMaking::onWorkerProgress);
    connect(&m_background, &QFutureWatcher<QString>::finished, this, [this] {
        if (!m_run) return;
        const QString error = m_background.result();
        Run& r = *m_run;
        if (!error.isEmpty()) {
            end(r.cancelled ? CliOutcome::Cancelled : CliOutcome::Failed,
                r.cancelled ? QStringLiteral("cancelled") : error);
            return;
        }
        if (!r.prepared) {
            r.prepared = true;
            maybeBegin();
            return;
        }
        r.storing = false;
        ++r.made;
        ++r.k;
        Q_EMIT pairStored(r.storedId, QString::fromStdString(r.recipe.frame));
        if (m_run) nextFrame();  // a receiver may have cancelled, and so ended, the run
    });
}

PairMaking::~PairMaking() {
    if (m_run) m_run->cancelled = true;
    m_background.waitForFinished();
}

bool PairMaking::start(const MakePairsSettings& settings, QString* error) {
    if (m_run) {
        if (error) *error = tr("pairs are being made already");
        return false;
    }
    if (settings.last <= settings.first) {
        if (error) *error = tr("no frames to make pairs of");
        return false;
    }
    auto run = std::make_unique<Run>();
    run->s = settings;
    run->describeJob = m_worker->describe(settings.model, error);
    if (run->describeJob.isEmpty()) return false;
    m_run = std::move(run);
    Run* r = m_run.get();
    Q_EMIT progress(0.0, tr("ground truth"));
    // The sequence, the store and the ground-truth map (built once, then read from the
    // store's cloud folder), off the GUI thread.
    m_background.setFuture(QtConcurrent::run([r]() -> QString {
        try {
            r->seq = std::make_unique<Sequence>(Sequence::open(r->s.sequence.toStdString()));
            if (!r->seq->hasPoses()) {
                return QObject::tr("%1: pairs need poses.txt (the ground truth map)")
                    .arg(r->s.sequence);
            }
            if (r->s.last > static_cast<int>(r->seq->size())) {
                return QObject::tr("frames %1:%2 are outside the sequence's %3")
                    .arg(r->s.first)
                    .arg(r->s.last)
                    .arg(r->seq->size());
            }
            r->store = std::make_unique<pairs::PairStore>(
                pairs::PairStore::open(r->s.store.toStdString(), true));
            fs::create_directories(r->store->cloudDir());
            removeStaleTemporaries(r->store->cloudDir());
            r->hash = pairs::modelFileHash(r->s.model.toStdString());
            r->sequenceName = fs::weakly_canonical(r->seq->dir()).string();
            CancelOnly cancel(r->cancelled);
            r->map = std::make_unique<map::StaticMap>(map::loadOrBuildStaticMap(
                *r->seq, pairs::pairMapFile(*r->store, r->seq->dir(), r->hash), {}, &cancel));
            return {};
        } catch (const std::exception& e) {
            return describeError(e);
        }
    }));
    return true;
}

void PairMaking::cancel() {
    if (!m_run) return;
    Run& r = *m_run;
    r.cancelled = true;
    bool waiting = m_background.isRunning();
    for (const QString& job : {r.describeJob, r.jobs[0], r.jobs[1]}) {
        if (!job.isEmpty() && m_worker->isPending(job)) {
            m_worker->cancel(job);
            waiting = true;
        }
    }
    if (!waiting) end(CliOutcome::Cancelled, QStringLiteral("cancelled"));
}

void PairMaking::onWorkerProgress(const QString& job, double fraction, const QString& stage) {
    if (!m_run) return;
    const Run& r = *m_run;
    for (int side = 0; side < 2; ++side) {
        if (job != r.jobs[side]) continue;
        const double f = (r.k + 0.5 * side + 0.5 * fraction) / r.frames();
        Q_EMIT progress(f, tr("frame %1, %2 %3")
                               .arg(QString::fromStdString(r.recipe.frame),
                                    side == 0 ? QStringLiteral("A") : QStringLiteral("B"), stage));
    }
}

void PairMaking::onWorkerFinished(const QString& job, CliOutcome outcome, const QString& message,
                                  const QString& code, const std::optional<events::Event>& result) {
    if (!m_run) return;
    Run& r = *m_run;
    const int side = job == r.jobs[0] ? 0 : job == r.jobs[1] ? 1 : -1;
    if (job != r.describeJob && side < 0) return;  // not ours
    if (outcome != CliOutcome::Succeeded || !result) {
        if (outcome == CliOutcome::Failed && r.failure.isEmpty()) {
            r.failure = code == QLatin1String("worker_died")
                            ? tr("the worker stopped: %1").arg(message)
                            : message;
        }
        for (const QString& other : {r.describeJob, r.jobs[0], r.jobs[1]}) {
            if (other != job && !other.isEmpty() && m_worker->isPending(other)) {
                m_worker->cancel(other);
                return;  // ends when the other reports
            }
        }
        if (m_background.isRunning()) return;  // ends when the map is ready
        if (!r.failure.isEmpty()) {
            end(CliOutcome::Failed, r.failure);
        } else {
            end(CliOutcome::Cancelled, QStringLiteral("cancelled"));
        }
        return;
    }
    if (job == r.describeJob) {
        r.described = true;
        const int modelSteps = static_cast<int>(result->number("steps").value_or(50));
        r.steps = r.s.steps > 0 ? r.s.steps : modelSteps;
        r.guidance = result->number("guidance").value_or(6.0);
        // The ground truth within the model's range, as `pairs make` scores it.
        const double range = result->number("max_range").value_or(50.0);
        r.truth.radius = range;
        r.truth.viewpointMaxRange = range;
        maybeBegin();
        return;
    }
    r.clouds[side] = pairs::CandidateClouds{WorkerClient::cloudOf(*result, "partial"),
                                            WorkerClient::cloudOf(*result, "diffused"),
                                            WorkerClient::cloudOf(*result, "refined")};
    if (r.clouds[0] && r.clouds[1]) storeFrame();
}

void PairMaking::maybeBegin() {
    Run& r = *m_run;
    if (!r.failure.isEmpty() && !m_background.isRunning()) {
        end(CliOutcome::Failed, r.failure);
        return;
    }
    if (r.cancelled) {
        if (!m_background.isRunning() && !m_worker->isPending(r.describeJob)) {
            end(CliOutcome::Cancelled, QStringLiteral("cancelled"));
        }
        return;
    }
    if (r.prepared && r.described) nextFrame();
}

void PairMaking::nextFrame() {
    Run& r = *m_run;
    if (r.cancelled) {
        end(CliOutcome::Cancelled, QStringLiteral("cancelled"));
        return;
    }
    for (; r.k < r.frames(); ++r.k) {
        const std::size_t i = r.frame();
        r.recipe = pairs::pairRecipe(r.sequenceName, r.seq->frameName(i), i,
                                     r.s.model.toStdString(), r.hash, 0, r.s.lambda, false,
                                     r.steps, r.guidance);
        try {
            if (r.store->find(r.recipe)) {  // a re-run adds only what is missing
                ++r.kept;
                continue;
            }
            const PointCloud scan = r.seq->loadScan(i);
            QStringList common{QStringLiteral("--steps"), QString::number(r.steps),
                               QStringLiteral("--device"), r.s.device};
            if (r.s.points > 0) common << QStringLiteral("--points") << QString::number(r.s.points);
            r.clouds[0].reset();
            r.clouds[1].reset();
            for (int side = 0; side < 2; ++side) {
                QStringList args = common;
                args << QStringLiteral("--seed")
                     << QString::number(side == 0 ? r.recipe.seedA : r.recipe.seedB);
                if (side == 1) {
                    args << QStringLiteral("--noise-scale")
                         << QString::number(r.recipe.lambda, 'g', 17);
                }
                QString error;
                r.jobs[side] = m_worker->complete(r.s.model, scan, args, &error);
                if (r.jobs[side].isEmpty()) {
                    if (side == 1) m_worker->cancel(r.jobs[0]);
                    end(CliOutcome::Failed, error);
                    return;
                }
            }
            Q_EMIT progress(double(r.k) / r.frames(),
                            tr("frame %1").arg(QString::fromStdString(r.recipe.frame)));
            return;
        } catch (const std::exception& e) {
            end(CliOutcome::Failed, describeError(e));
            return;
        }
    }
    Q_EMIT progress(1.0, {});
    end(CliOutcome::Succeeded, {});
}

void PairMaking::storeFrame() {
    Run* r = m_run.get();
    r->storing = true;
    Q_EMIT progress((r->k + 0.99) / r->frames(),
                    tr("frame %1, scoring").arg(QString::fromStdString(r->recipe.frame)));
    // Cancelling now still stores this pair: its completions are done.
    m_background.setFuture(QtConcurrent::run([r]() -> QString {
        try {
            const std::size_t i = r->frame();
            const PointCloud truth = map::groundTruthForFrame(*r->seq, *r->map, i, r->truth);
            r->storedId = pairs::storeCandidatePair(*r->store, r->recipe, i, *r->clouds[0],
                                                    *r->clouds[1], truth, "cd");
            return {};
        } catch (const std::exception& e) {
            return describeError(e);
        }
    }));
}

void PairMaking::end(CliOutcome outcome, const QString& message) {
    if (!m_run) return;
    const int made = m_run->made, kept = m_run->kept;
    const QString said = message;  // may be the run's own failure, which goes with it
    m_run.reset();
    Q_EMIT finished(outcome, said, made, kept);
}

}  // namespace lidistill::ui
