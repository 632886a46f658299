// SPDX-License-Identifier: MIT
#include "ui/app/MainWindow.h"

#include "core/io/CloudFile.h"
#include "ui/app/ColorScaleControls.h"
#include "ui/app/CompletionPanel.h"
#include "ui/app/CurationPanel.h"
#include "ui/app/SequenceSession.h"
#include "ui/app/ShortcutHelp.h"
#include "ui/app/TrainingPanel.h"
#include "ui/app/ViewCapture.h"
#include "ui/models/FrameListModel.h"
#include "ui/workers/PromiseProgress.h"

#include <QAction>
#include <QActionGroup>
#include <QClipboard>
#include <QCloseEvent>
#include <QComboBox>
#include <QDateTime>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QTableView>
#include <QToolBar>

#include <vtkCamera.h>
#include <vtkRenderer.h>

namespace lidistill::ui {

namespace {
/// The first local folder or supported scan file among dropped URLs.
QString localDrop(const QMimeData* mime) {
    if (!mime || !mime->hasUrls()) {
        return {};
    }
    for (const QUrl& url : mime->urls()) {
        if (!url.isLocalFile()) continue;
        const QFileInfo info(url.toLocalFile());
        if (info.isDir()) return url.toLocalFile();
        if (info.isFile()) {
            try {
                io::formatFromPath(url.toLocalFile().toStdString());
                return url.toLocalFile();
            } catch (const std::exception&) {
                // not a scan file: look at the next URL
            }
        }
    }
    return {};
}
}  // namespace

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent),
      m_session(new SequenceSession(this)),
      m_scanView(new PointCloudView),
      m_gtView(new PointCloudView),
      m_teacherView(new PointCloudView),
      m_studentView(new PointCloudView),
      m_frameList(new QListView),
      m_views(nullptr),
      m_colorBox(new QComboBox),
      m_colorScale(
          new ColorScaleControls({m_scanView, m_gtView, m_teacherView, m_studentView}, this)),
      m_frameLabel(new QLabel),
      m_pickLabel(new QLabel),
      m_mapLabel(new QLabel),
      m_mapProgress(new QProgressBar) {
    setAcceptDrops(true);
    resize(1500, 860);

    m_frameList->setModel(m_session->frames());
    m_frameList->setUniformItemSizes(true);
    m_frameList->setMaximumWidth(200);
    m_frameList->setSelectionMode(QAbstractItemView::SingleSelection);
    connect(m_frameList->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex& current) {
                if (current.isValid()) m_session->requestFrame(current.row());
            });

    m_scanView->setTitle(tr("Scan"));
    m_gtView->setTitle(tr("Ground truth"));
    m_scanView->clearCloud(
        tr("Open a SemanticKITTI sequence folder (File > Open, or drop it here)"));
    m_gtView->clearCloud();
    m_scanView->linkCamera(m_gtView);
    m_scanView->linkCamera(m_teacherView);
    m_scanView->linkCamera(m_studentView);

    // scan | ground truth over teacher | student; the second row only with the panel.
    auto* top = new QSplitter(Qt::Horizontal);
    top->addWidget(m_scanView);
    top->addWidget(m_gtView);
    top->setChildrenCollapsible(false);
    auto* bottom = new QSplitter(Qt::Horizontal);
    bottom->addWidget(m_teacherView);
    bottom->addWidget(m_studentView);
    bottom->setChildrenCollapsible(false);
    bottom->setVisible(false);
    m_resultRow = bottom;
    connect(top, &QSplitter::splitterMoved, bottom,
            [top, bottom] { bottom->setSizes(top->sizes()); });
    connect(bottom, &QSplitter::splitterMoved, top,
            [top, bottom] { top->setSizes(bottom->sizes()); });
    auto* views = new QSplitter(Qt::Vertical);
    views->addWidget(top);
    views->addWidget(bottom);
    views->setChildrenCollapsible(false);
    m_views = views;
    auto* main = new QSplitter(Qt::Horizontal);
    main->addWidget(m_frameList);
    main->addWidget(views);
    main->setStretchFactor(1, 1);
    main->setSizes({110, 1390});
    // Page 0 the frame views, page 1 the Curate workspace (G): one at a time, so that each
    // page's keys mean one thing.
    m_curation = new CurationPanel(m_session);
    m_pages = new QStackedWidget;
    m_pages->addWidget(main);
    m_pages->addWidget(m_curation);
    setCentralWidget(m_pages);

    m_colorBox->addItem(tr("Height"), static_cast<int>(ColorMode::Height));
    m_colorBox->addItem(tr("Range"), static_cast<int>(ColorMode::Range));
    m_colorBox->addItem(tr("Intensity"), static_cast<int>(ColorMode::Intensity));
    m_colorBox->addItem(tr("Semantic class"), static_cast<int>(ColorMode::SemanticClass));
    m_colorBox->addItem(tr("Instance"), static_cast<int>(ColorMode::Instance));
    m_colorBox->setToolTip(tr("Colour points by (C cycles)"));
    m_colorBox->setFocusPolicy(Qt::NoFocus);  // keep N/B and arrows for frames
    connect(m_colorBox, &QComboBox::currentIndexChanged, this, [this](int i) {
        setColorMode(static_cast<ColorMode>(m_colorBox->itemData(i).toInt()));
    });

    m_mapProgress->setRange(0, PromiseProgress<int>::kProgressMax);
    m_mapProgress->setMaximumWidth(180);
    m_mapProgress->setVisible(false);
    statusBar()->addWidget(m_frameLabel, 1);
    m_pickLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);  // values can be copied
    statusBar()->addPermanentWidget(m_pickLabel);
    connect(m_colorScale, &ColorScaleControls::status, this,
            [this](const QString& message) { statusBar()->showMessage(message, 8000); });
    for (PointCloudView* v : allViews()) {
        connect(v, &PointCloudView::pointPicked, this,
                [this, v](const PickedPoint& p) { showPick(v, p); });
        connect(v, &PointCloudView::pickMissed, m_pickLabel, &QLabel::clear);
    }
    statusBar()->addPermanentWidget(m_mapLabel);
    statusBar()->addPermanentWidget(m_mapProgress);

    buildCompletionDock();
    buildTrainingDock();
    buildActions();
    setCurationMode(false);
    // Labels first: this is a SemanticKITTI tool.
    m_colorBox->setCurrentIndex(m_colorBox->findData(static_cast<int>(ColorMode::SemanticClass)));

    connect(m_session, &SequenceSession::opened, this, [this](const QString& dir, int count) {
        m_scanView->clearCloud(tr("Loading..."));
        m_gtView->clearCloud();
        m_frameLabel->setText(tr("%1: %2 frames").arg(dir).arg(count));
        m_mapLabel->clear();
        selectRow(0);
        updateTitle();
    });
    connect(m_session, &SequenceSession::frameLoaded, this, &MainWindow::showFrame);
    connect(m_session, &SequenceSession::failed, this, &MainWindow::showError);
    connect(
        m_session, &SequenceSession::mapProgress, this, [this](int permille, const QString& stage) {
            m_mapProgress->setVisible(true);
            m_mapProgress->setValue(permille);
            m_mapLabel->setText(tr("Building ground-truth map: %1").arg(stage));
            if (!m_gtView->hasCloud()) {
                m_gtView->setMessage(tr("Building the ground-truth map... %1%").arg(permille / 10));
            }
        });
    connect(m_session, &SequenceSession::mapReady, this, [this](qsizetype points) {
        m_mapProgress->setVisible(false);
        m_mapLabel->setText(tr("Map: %L1 points").arg(points));
    });
}

MainWindow::~MainWindow() = default;

void MainWindow::buildActions() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* open = file->addAction(tr("&Open sequence..."), this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(
            this, tr("Open a SemanticKITTI sequence folder"),
            m_session->sequence() ? QString::fromStdString(m_session->sequence()->dir().string())
                                  : QString());
        if (!dir.isEmpty()) openSequence(dir);
    });
    open->setShortcut(QKeySequence::Open);
    QAction* openOne = file->addAction(tr("Open &file..."), this, [this] {
        const QString f =
            QFileDialog::getOpenFileName(this, tr("Open a point cloud file"), QString(),
                                         tr("Point clouds (*.bin *.pcd *.ply);;All files (*)"));
        if (!f.isEmpty()) openFile(f);
    });
    openOne->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
    file->addSeparator();
    QAction* shot = file->addAction(tr("Save &screenshot"), this, [this] { saveScreenshot(); });
    shot->setShortcut(Qt::Key_P);
    shot->setToolTip(
        tr("PNG of the views and the camera JSON, in %1").arg(defaultScreenshotFolder()));
    file->addAction(tr("Save screenshot &as..."), this, [this] {
        const QString folder =
            m_screenshotFolder.isEmpty() ? defaultScreenshotFolder() : m_screenshotFolder;
        const QString f = QFileDialog::getSaveFileName(
            this, tr("Save screenshot"), nextScreenshotPath(folder, QDateTime::currentDateTime()),
            tr("PNG images (*.png)"));
        if (!f.isEmpty()) saveScreenshot(f);
    });
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    QMenu* frame = menuBar()->addMenu(tr("F&rame"));
    QAction* next = frame->addAction(tr("&Next frame"), this, &MainWindow::nextFrame);
    next->setShortcuts({QKeySequence(Qt::Key_N), QKeySequence(Qt::Key_Right)});
    QAction* prev = frame->addAction(tr("&Previous frame"), this, &MainWindow::previousFrame);
    prev->setShortcuts({QKeySequence(Qt::Key_B), QKeySequence(Qt::Key_Left)});
    m_frameKeys << next << prev;

    QMenu* view = menuBar()->addMenu(tr("&View"));
    QAction* reset =
        view->addAction(tr("&Reset view"), this, [this] { cameraView()->resetCamera(); });
    reset->setShortcut(Qt::Key_R);
    // The views of a page share one camera: driving it through one view moves them all.
    QAction* bev = view->addAction(tr("&Bird's-eye view (orthographic, toggle)"), this,
                                   [this] { cameraView()->toggleBirdsEye(); });
    bev->setShortcut(Qt::Key_T);
    const struct {
        const char* text;
        ViewPreset preset;
        Qt::Key key;
    } presets[] = {{QT_TR_NOOP("&Front view"), ViewPreset::Front, Qt::Key_1},
                   {QT_TR_NOOP("&Side view"), ViewPreset::Side, Qt::Key_3},
                   {QT_TR_NOOP("&Top view"), ViewPreset::Top, Qt::Key_7}};
    for (const auto& p : presets) {
        const ViewPreset preset = p.preset;
        QAction* a = view->addAction(tr(p.text), this,
                                     [this, preset] { cameraView()->setViewPreset(preset); });
        a->setShortcut(p.key);
        if (p.key != Qt::Key_7) m_frameKeys << a;  // 1 and 3 pick the left candidate / tie
    }
    QAction* copyCam = view->addAction(tr("&Copy camera"), this, &MainWindow::copyCamera);
    copyCam->setShortcut(QKeySequence::Copy);
    QAction* pasteCam = view->addAction(tr("&Paste camera"), this, &MainWindow::pasteCamera);
    pasteCam->setShortcut(QKeySequence::Paste);
    view->addSeparator();
    QMenu* sizes = view->addMenu(tr("Point si&ze"));
    QAction* bigger = sizes->addAction(tr("Larger points"), this, [this] {
        m_scanView->setPointSize(m_scanView->pointSize() + 1);
        for (PointCloudView* v : everyView()) v->setPointSize(m_scanView->pointSize());
    });
    bigger->setShortcuts({QKeySequence(Qt::Key_Plus), QKeySequence(Qt::Key_Equal)});
    QAction* smaller = sizes->addAction(tr("Smaller points"), this, [this] {
        m_scanView->setPointSize(m_scanView->pointSize() - 1);
        for (PointCloudView* v : everyView()) v->setPointSize(m_scanView->pointSize());
    });
    smaller->setShortcut(Qt::Key_Minus);
    sizes->addSeparator();
    auto* sizeGroup = new QActionGroup(this);
    // Optional: sizes reached with +/- that are not listed leave nothing ticked.
    sizeGroup->setExclusionPolicy(QActionGroup::ExclusionPolicy::ExclusiveOptional);
    for (const int px : {1, 2, 3, 4, 6, 8, 10}) {
        QAction* a = sizes->addAction(tr("%1 px").arg(px), this, [this, px] {
            for (PointCloudView* v : everyView()) v->setPointSize(px);
        });
        a->setCheckable(true);
        a->setData(px);
        a->setChecked(px == static_cast<int>(m_scanView->pointSize()));
        sizeGroup->addAction(a);
    }
    // Keep the tick on the current size whatever changed it (+/-, a view's own keys).
    connect(m_scanView, &PointCloudView::pointSizeChanged, sizeGroup, [sizeGroup](double px) {
        for (QAction* a : sizeGroup->actions()) a->setChecked(a->data().toDouble() == px);
    });
    QAction* light = view->addAction(tr("&Light background"));
    light->setCheckable(true);
    connect(light, &QAction::toggled, this, [this](bool on) {
        for (PointCloudView* v : everyView()) v->setLightBackground(on);
    });
    QAction* axes = view->addAction(tr("Show &axes"));
    axes->setCheckable(true);
    axes->setChecked(true);
    connect(axes, &QAction::toggled, this, [this](bool on) {
        for (PointCloudView* v : everyView()) v->setAxisTriadVisible(on);
    });
    QAction* cycle = view->addAction(tr("Next colour mode"), this, [this] {
        m_colorBox->setCurrentIndex((m_colorBox->currentIndex() + 1) % m_colorBox->count());
    });
    cycle->setShortcut(Qt::Key_C);
    QAction* legend = view->addAction(tr("Show legend"));
    legend->setCheckable(true);
    legend->setChecked(true);
    legend->setShortcut(QKeySequence(Qt::SHIFT | Qt::Key_C));
    connect(legend, &QAction::toggled, this, [this](bool on) {
        for (PointCloudView* v : everyView()) v->setLegendVisible(on);
    });
    m_colorScale->populateMenu(view->addMenu(tr("Colour &scale (height, range, intensity)")));
    view->addSeparator();
    m_nuscenesKitti = view->addAction(tr("nuScenes sweeps in &KITTI axes (x forward)"));
    m_nuscenesKitti->setCheckable(true);
    m_nuscenesKitti->setChecked(m_session->nuscenesAxes() == io::NuscenesAxes::KittiFrame);
    m_nuscenesKitti->setToolTip(
        tr("Turn nuScenes sweeps (stored x right, y forward) by -90 degrees about z, so that "
           "the front and top views look the same way as for KITTI scans"));
    connect(m_nuscenesKitti, &QAction::toggled, this, [this](bool on) {
        m_session->setNuscenesAxes(on ? io::NuscenesAxes::KittiFrame : io::NuscenesAxes::AsStored);
    });

    QMenu* completion = menuBar()->addMenu(tr("&Completion"));
    QAction* panel = m_completionDock->toggleViewAction();
    panel->setText(tr("Show the &completion panel (teacher / student)"));
    panel->setIconText(tr("Completion"));
    panel->setShortcut(Qt::Key_K);
    completion->addAction(panel);
    QAction* runBoth =
        completion->addAction(tr("&Run teacher and student on this frame"), this, [this] {
            m_completionDock->show();
            m_completion->runBoth();
        });
    runBoth->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
    QAction* stopBoth =
        completion->addAction(tr("&Stop the completions"), m_completion, &CompletionPanel::stopAll);
    stopBoth->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Period));

    QMenu* training = menuBar()->addMenu(tr("&Training"));
    QAction* trainPanel = m_trainingDock->toggleViewAction();
    trainPanel->setText(tr("Show the &training panel (Distillation-DPO)"));
    trainPanel->setIconText(tr("Training"));
    trainPanel->setShortcut(Qt::Key_D);
    training->addAction(trainPanel);
    training->addAction(tr("&Open run folder..."), this, [this] {
        m_trainingDock->show();
        m_training->openRunFolder();
    });

    buildCurateMenu();

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    QAction* keys = help->addAction(tr("&Keyboard and mouse"), this, &MainWindow::showHelp);
    keys->setShortcuts({QKeySequence(QKeySequence::HelpContents), QKeySequence(Qt::Key_H)});

    QToolBar* bar = addToolBar(tr("Main"));
    bar->setMovable(false);
    bar->addAction(open);
    bar->addSeparator();
    bar->addAction(prev);
    bar->addAction(next);
    bar->addSeparator();
    bar->addWidget(new QLabel(tr(" Colour: ")));
    bar->addWidget(m_colorBox);
    bar->addWidget(new QLabel(tr(" Map: ")));
    bar->addWidget(m_colorScale->colormapBox());
    bar->addAction(reset);
    bar->addSeparator();
    bar->addAction(panel);
    bar->addAction(trainPanel);
    bar->addAction(m_curateAction);
}

void MainWindow::buildCurateMenu() {
    QMenu* curate = menuBar()->addMenu(tr("C&urate"));
    m_curateAction = curate->addAction(tr("&Curate preference pairs (workspace)"));
    m_curateAction->setIconText(tr("Curate"));
    m_curateAction->setCheckable(true);
    m_curateAction->setShortcut(Qt::Key_G);
    connect(m_curateAction, &QAction::toggled, this, &MainWindow::setCurationMode);
    curate->addAction(tr("&Open pair store..."), this, [this] {
        const QString f = QFileDialog::getOpenFileName(
            this, tr("Open a pair store"), {}, tr("Pair stores (*.db *.sqlite);;All files (*)"));
        if (!f.isEmpty()) openPairStore(f);
    });
    curate->addSeparator();
    // The workspace's own keys, listed here (and in the help); live only while it is shown.
    curate->addActions(m_curation->keyActions());
    connect(m_curation, &CurationPanel::errorOccurred, this, &MainWindow::showError);
}

bool MainWindow::isCurating() const {
    return m_pages->currentWidget() == m_curation;
}

void MainWindow::setCurationMode(bool on) {
    m_pages->setCurrentWidget(on ? static_cast<QWidget*>(m_curation) : m_pages->widget(0));
    m_curateAction->setChecked(on);  // no signal when unchanged
    for (QAction* a : m_frameKeys) a->setEnabled(!on);
    for (QAction* a : m_curation->keyActions()) a->setEnabled(on);
    if (on) m_curation->pairTable()->setFocus();
}

bool MainWindow::openPairStore(const QString& file) {
    if (!m_curation->openStore(file)) return false;
    setCurationMode(true);
    return true;
}

PointCloudView* MainWindow::cameraView() const {
    return isCurating() ? m_curation->views()[0] : m_scanView;
}

std::vector<PointCloudView*> MainWindow::everyView() const {
    std::vector<PointCloudView*> views;
    for (PointCloudView* v : allViews()) views.push_back(v);
    for (PointCloudView* v : m_curation->views()) views.push_back(v);
    return views;
}

void MainWindow::buildCompletionDock() {
    m_completion = new CompletionPanel(m_session, m_teacherView, m_studentView);
    m_completionDock = new QDockWidget(tr("Completion: teacher and student"), this);
    m_completionDock->setObjectName(QStringLiteral("completionDock"));
    m_completionDock->setWidget(m_completion);
    addDockWidget(Qt::RightDockWidgetArea, m_completionDock);
    resizeDocks({m_completionDock}, {430}, Qt::Horizontal);
    m_completionDock->hide();
    connect(m_completionDock, &QDockWidget::visibilityChanged, m_resultRow, [this] {
        // Hidden (not just tabbed away): the results leave the view grid too.
        m_resultRow->setVisible(!m_completionDock->isHidden());
    });
    connect(m_completion, &CompletionPanel::errorOccurred, this, &MainWindow::showError);
}

void MainWindow::buildTrainingDock() {
    m_training = new TrainingPanel(m_session);
    m_trainingDock = new QDockWidget(tr("Training: Distillation-DPO"), this);
    m_trainingDock->setObjectName(QStringLiteral("trainingDock"));
    m_trainingDock->setWidget(m_training);
    addDockWidget(Qt::RightDockWidgetArea, m_trainingDock);
    m_trainingDock->hide();
    connect(m_training, &TrainingPanel::errorOccurred, this,
            [this](const QString& message) { statusBar()->showMessage(message, 8000); });
    connect(m_training, &TrainingPanel::studentChosen, this, [this](const QString& file) {
        m_completion->slot(CompletionRole::Student)->modelEdit()->setText(file);
        m_completionDock->show();
        statusBar()->showMessage(tr("Student model: %1").arg(file), 8000);
    });
}

bool MainWindow::openSequence(const QString& dir) {
    return m_session->open(dir);
}

bool MainWindow::openFile(const QString& file) {
    return m_session->openFile(file);
}

void MainWindow::selectRow(int row) {
    const QModelIndex index = m_session->frames()->index(row, 0);
    if (index.isValid()) {
        m_frameList->setCurrentIndex(index);
        m_frameList->scrollTo(index);
    }
}

void MainWindow::nextFrame() {
    const int rows = m_session->frames()->rowCount();
    const int row = m_frameList->currentIndex().row();
    if (rows > 0) selectRow(std::min(row + 1, rows - 1));
}

void MainWindow::previousFrame() {
    const int row = m_frameList->currentIndex().row();
    if (row > 0) selectRow(row - 1);
}

void MainWindow::setColorMode(ColorMode mode) {
    const int i = m_colorBox->findData(static_cast<int>(mode));
    if (i >= 0 && i != m_colorBox->currentIndex()) {
        m_colorBox->setCurrentIndex(i);  // comes back here through the signal
        return;
    }
    for (PointCloudView* v : allViews()) v->setColorMode(mode);
    m_colorScale->syncToMode();
}

void MainWindow::setColormap(Colormap map) {
    m_colorScale->setColormap(map);
}

void MainWindow::setFixedRange(ColorMode mode, std::optional<ColorRange> range) {
    m_colorScale->setFixedRange(mode, range);
}

void MainWindow::setNuscenesAxes(io::NuscenesAxes axes) {
    m_nuscenesKitti->setChecked(axes == io::NuscenesAxes::KittiFrame);  // toggled does the rest
}

QString MainWindow::pointReadout() const {
    return m_pickLabel->text();
}

void MainWindow::showPick(const PointCloudView* view, const PickedPoint& point) {
    const QString where = view == m_scanView      ? tr("Scan")
                          : view == m_gtView      ? tr("Ground truth")
                          : view == m_teacherView ? tr("Teacher")
                                                  : tr("Student");
    m_pickLabel->setText(tr("%1 %2").arg(where, describePoint(point)));
}

void MainWindow::showFrame(const FrameData& frame) {
    if (!frame.error.isEmpty()) {
        m_scanView->clearCloud(tr("Frame %1 could not be loaded").arg(frame.index));
        m_gtView->clearCloud();
        return;
    }
    const std::size_t scanPoints = frame.scan.pointCount;
    m_pickLabel->clear();  // it named a point of the previous cloud
    m_scanView->setCloud(frame.scan);
    QString gtText;
    if (frame.groundTruth) {
        gtText = tr(", ground truth %L1 points").arg(frame.groundTruth->pointCount);
        m_gtView->setCloud(*frame.groundTruth);
    } else if (!frame.groundTruthError.isEmpty()) {
        m_gtView->clearCloud(tr("No ground truth for this frame"));
        showError(frame.groundTruthError);
    } else if (m_session->isBuildingMap()) {
        m_gtView->clearCloud(tr("Building the ground-truth map..."));
    } else {
        m_gtView->clearCloud(groundTruthUnavailableReason());
    }
    m_frameLabel->setText(tr("Frame %1 (%2 of %3): %L4 points%5")
                              .arg(frame.name)
                              .arg(frame.index + 1)
                              .arg(m_session->frames()->rowCount())
                              .arg(scanPoints)
                              .arg(gtText));
    Q_EMIT frameShown(frame.index, frame.groundTruth.has_value());
}

void MainWindow::showError(const QString& message) {
    statusBar()->showMessage(message, 15000);
    Q_EMIT errorShown(message);
    if (m_errorDialogs) {
        // Non-modal: an error never blocks the event loop (or a test).
        auto* box = new QMessageBox(QMessageBox::Warning, tr("LiDistill Studio"), message,
                                    QMessageBox::Ok, this);
        box->setAttribute(Qt::WA_DeleteOnClose);
        box->open();
    }
}

QString MainWindow::saveScreenshot(const QString& file) {
    QString target = file;
    if (target.isEmpty()) {
        const QString folder =
            m_screenshotFolder.isEmpty() ? defaultScreenshotFolder() : m_screenshotFolder;
        target = nextScreenshotPath(folder, QDateTime::currentDateTime());
    }
    const CameraState camera = captureCamera(cameraView()->renderer()->GetActiveCamera());
    QWidget* views = isCurating() ? m_curation->viewsWidget() : m_views;
    try {
        ui::saveScreenshot(views->grab().toImage(), target, &camera);
    } catch (const std::exception& e) {
        showError(tr("Cannot save the screenshot: %1").arg(QString::fromUtf8(e.what())));
        return {};
    }
    statusBar()->showMessage(tr("Screenshot saved to %1").arg(target), 10000);
    return target;
}

void MainWindow::copyCamera() {
    const CameraState camera = captureCamera(cameraView()->renderer()->GetActiveCamera());
    QGuiApplication::clipboard()->setText(cameraToJson(camera));
    statusBar()->showMessage(tr("Camera copied to the clipboard"), 5000);
}

bool MainWindow::pasteCamera() {
    CameraState camera;
    try {
        camera = cameraFromJson(QGuiApplication::clipboard()->text());
    } catch (const std::exception& e) {
        // Pasting the wrong text is a slip, not a failure: no dialog.
        statusBar()->showMessage(tr("Cannot paste the camera: %1").arg(QString::fromUtf8(e.what())),
                                 10000);
        return false;
    }
    applyCamera(cameraView()->renderer()->GetActiveCamera(), camera);
    cameraView()->updateLinked();
    statusBar()->showMessage(tr("Camera pasted from the clipboard"), 5000);
    return true;
}

QString MainWindow::groundTruthUnavailableReason() const {
    if (!m_session->singleFile().empty()) {
        return tr("No ground truth for a single file\n(open its sequence folder to build one)");
    }
    const auto& seq = m_session->sequence();
    if (!seq) {
        return {};
    }
    QStringList missing;
    if (!seq->hasPoses()) missing << tr("poses.txt");
    if (!seq->hasLabels()) missing << tr("labels/*.label");
    return tr("No ground truth: this folder has no %1\n(the map is built from posed, "
              "labelled scans)")
        .arg(missing.join(tr(" and ")));
}

void MainWindow::showHelp() {
    if (!m_help) {
        m_help = new ShortcutHelpDialog(this);
    }
    // Rebuilt each time from the live actions: the reference always matches the bindings.
    m_help->setEntries(shortcutEntries(menuBar()) + mouseEntries());
    m_help->show();
    m_help->raise();
}

void MainWindow::updateTitle() {
    const auto& seq = m_session->sequence();
    QString what;
    if (seq) {
        what = QString::fromStdString(seq->dir().string());
    } else if (!m_session->singleFile().empty()) {
        what = QString::fromStdString(m_session->singleFile().string());
    }
    setWindowTitle(what.isEmpty() ? tr("LiDistill Studio") : tr("%1 - LiDistill Studio").arg(what));
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
    if (!localDrop(event->mimeData()).isEmpty()) {
        event->acceptProposedAction();
    }
}

void MainWindow::dropEvent(QDropEvent* event) {
    const QString path = localDrop(event->mimeData());
    if (path.isEmpty()) {
        return;
    }
    event->acceptProposedAction();
    if (QFileInfo(path).isDir()) {
        openSequence(path);
    } else {
        openFile(path);
    }
}

void MainWindow::closeEvent(QCloseEvent* event) {
    m_session->cancelMapBuild();  // the session's destructor waits for it
    m_completion->stopAll();
    QMainWindow::closeEvent(event);
}

}  // namespace lidistill::ui
