#pragma once
// SPDX-License-Identifier: MIT
//
// The preference-pair store: one SQLite file (WAL mode) beside a folder of pair clouds
// (STORE.clouds/). A pair is one scan completed twice by one model (two noises, reference 6.3),
// both candidates scored against the frame's ground truth, the metric's verdict and margin, and
// every human decision (append-only: the latest is the verdict; "none" undoes). Several processes
// at once: the studio decides while a training run reads; a reader sees whole pairs only (one
// transaction a pair); a decision is on disk when decide() returns (synchronous=FULL), so a
// killed writer loses none it made. The file carries its schema version; an older, newer or
// foreign file is refused with a clear error and never modified. No Qt, no torch.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace lidistill::pairs {

/// Which candidate is preferred. None: no verdict (pending, or undone).
enum class Verdict { None, A, B, Tie, Skip };
/// "none", "a", "b", "tie", "skip" (the names in the file and on the command line).
const char* verdictName(Verdict v);
/// @throws InvalidArgument for another word.
Verdict parseVerdict(const std::string& word);

struct Candidate {
    std::string cloud;  ///< file name in the store's cloud folder: what is scored and shown
    double cd = 0;      ///< Chamfer distance to the ground truth, m
    double jsd = 0;     ///< BEV-JSD
    double iou = 0;     ///< voxel IoU at 0.5 m
    /// The diffusion's own sample before refinement (what the student outputs, and what
    /// `train-dpo --pairs` trains on); empty if not kept.
    std::string raw;
};

/// How the two candidates were made: the key of a pair (one per scan and recipe).
struct Recipe {
    std::string sequence;  ///< sequence folder
    std::string frame;     ///< frame name ("000123")
    std::string model;     ///< model file as given
    std::string modelHash; ///< content hash of the model file
    std::uint64_t seedA = 0;
    std::uint64_t seedB = 0;  ///< the second seed (equal to seedA with lambda != 1)
    double lambda = 1.0;      ///< noise scale of candidate B (Distillation-DPO's 1.1)
    int steps = 8;
    double guidance = 3.5;
};

struct Pair {
    long long id = 0;
    Recipe recipe;
    std::string metric;  ///< what ranked them: cd, jsd, iou or weighted
    /// The condition both candidates were completed from (the scan after the range filter and
    /// farthest point sampling), a file in the cloud folder; empty if not kept.
    std::string partial;
    Candidate a, b;
    Verdict automatic = Verdict::None;  ///< the metric's (A, B or Tie)
    double margin = 0;                   ///< |score A - score B| in the metric's unit
    bool aShownLeft = true;              ///< the order the studio shows the sides in
    std::string created;                 ///< ISO time
    Verdict human = Verdict::None;       ///< the latest decision
    std::string who, decidedAt;
    /// The verdict training uses: the human one when there is one (not skip), else the metric's.
    Verdict effective() const;
};

enum class Filter { All, Pending, Decided, Agreeing, Overridden };

struct Stats {
    long long pairs = 0, decided = 0, pending = 0, skipped = 0, ties = 0;
    long long agreeing = 0;    ///< human A/B equal to the metric's
    long long overridden = 0;  ///< human A/B against the metric's
    long long decisions = 0;   ///< decisions recorded in all (undos and changes included)
    /// agreeing / (agreeing + overridden); NaN before any A/B decision.
    double agreement() const;
};

class PairStore {
public:
    /// Opens (or with `create`, creates) the store. @throws IoError naming the file for a file
    /// that is not a pair store, of another schema version, or unreadable.
    static PairStore open(const std::filesystem::path& file, bool create = false);
    PairStore(PairStore&&) noexcept;
    PairStore& operator=(PairStore&&) noexcept;
    ~PairStore();

    const std::filesystem::path& file() const noexcept;
    /// STORE.clouds/: where the candidates' cloud files go.
    std::filesystem::path cloudDir() const;

    /// Stores a pair (one transaction). A pair with the same recipe is not stored twice: its
    /// id is returned. @throws InvalidArgument for a cloud name that is not a plain file name;
    /// IoError.
    long long add(const Pair& pair);
    /// The id of the pair with this recipe, if stored.
    std::optional<long long> find(const Recipe& recipe) const;
    /// Records a decision (Verdict::None undoes the last). @throws InvalidArgument for an
    /// unknown id; IoError.
    void decide(long long id, Verdict verdict, const std::string& who);
    /// get, list, stats and the exports read pairs as stored: a pair naming a cloud outside the
    /// cloud folder ("../x", "/etc/x") or holding an unknown verdict is refused with an IoError
    /// naming the file and the pair (a store from another program, or damaged).
    std::optional<Pair> get(long long id) const;
    std::vector<Pair> list(Filter filter = Filter::All) const;
    Stats stats() const;
    /// Preference-tuning records, one JSON object a line: {"prompt": scan, "chosen": cloud,
    /// "rejected": cloud, "source": "human"|"metric", ...metadata}; ties and skips left out.
    /// Written atomically. @throws IoError.
    void exportJsonl(const std::filesystem::path& out) const;
    /// Every pair with both verdicts, one CSV row each. Written atomically. @throws IoError.
    void exportCsv(const std::filesystem::path& out) const;

    /// 2: raw candidates and the condition (partial) beside the scored clouds.
    static constexpr int kSchemaVersion = 2;

private:
    struct Impl;
    explicit PairStore(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

}  // namespace lidistill::pairs
