#pragma once
// SPDX-License-Identifier: MIT

#include "core/base/Error.h"
#include "core/base/PointCloud.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace lidistill::ml {

/// The data scale a model was trained at and is meant to run at: how many points it sees and
/// how far. Published LiDiff weights are "full" (18k partial points tiled 10x, 180k generated);
/// "lite" is this project's CPU-sized scale (README, resources/models/MODEL_CARD.md). Commands
/// take their defaults from here, so any model file just works with its own scale.
struct ModelScale {
    std::string name = "full";         ///< "full", "lite" or "custom" (free text, for people)
    std::size_t partialPoints = 18000;  ///< farthest point samples of the scan (the condition)
    int tile = 10;                      ///< copies of the partial scan in x_init
    std::size_t fullPoints = 180000;    ///< ground-truth points of a training sample
    double minRange = 3.5;              ///< metres: the scan keeps minRange < |p| < maxRange
    double maxRange = 50.0;

    /// LiDiff's published scale (the default of files without a scale).
    static ModelScale full() { return {}; }
    /// The CPU scale: see lite() in Model.cpp for the figures and why.
    static ModelScale lite();
    /// "full" / "lite" by name. @throws InvalidArgument for another name.
    static ModelScale named(const std::string& name);
    /// The differences from `other`, as "points 2000 vs 18000, tile 5 vs 10" (empty if same).
    std::string differencesFrom(const ModelScale& other) const;
};

/// How a model is meant to be sampled: a teacher 50 steps with w = 6, a student 8 with 3.5.
struct SamplingDefaults {
    int steps = 50;
    double guidance = 6.0;
};

/// What a LiDiff-family model file holds and how its networks are shaped. Stored as JSON in
/// the safetensors metadata under "lidistill.config".
struct ModelConfig {
    double width = 1.0;           ///< channel multiplier (LiDiff's `cr`); 1.0 = published nets
    int inChannels = 3;           ///< voxel features (mean xyz)
    int refinerOutChannels = 18;  ///< LiDiff's refiner predicts 6 offsets x 3
    double voxelSize = 0.05;      ///< metres
    bool hasEncoder = true;       ///< MinkGlobalEnc, tensors "encoder.*"
    bool hasDenoiser = true;      ///< MinkUNetDiff, tensors "denoiser.*"
    bool hasRefiner = false;      ///< MinkUNet, tensors "refiner.*"
    std::string source;           ///< free text, e.g. the checkpoint it was converted from
    ModelScale scale;             ///< data scale (files without one are "full")
    SamplingDefaults sampling;    ///< steps and guidance it is meant to run with
    std::string role = "teacher";  ///< "teacher" or "student" (free text otherwise)

    /// The lite scale's networks: width 0.25, 0.1 m voxels, ModelScale::lite().
    static ModelConfig lite();

    std::string toJson() const;
    /// @throws InvalidArgument on malformed JSON or out-of-range values.
    static ModelConfig fromJson(const std::string& json);
};

/// One network of a model file.
struct NetworkSummary {
    std::string name;          ///< "encoder", "denoiser" or "refiner"
    std::string architecture;  ///< "MinkGlobalEnc", "MinkUNetDiff", "MinkUNet"
    std::int64_t parameters = 0;
    std::int64_t tensors = 0;  ///< parameters and buffers in the state dict
};

/// The LiDiff networks (condition encoder, denoiser, refiner) behind a torch-free interface.
/// Runs on the CPU unless setDevice() picks another device; inference only (eval mode: batch
/// norm uses the running statistics).
/// Not thread-safe: use one instance per thread.
/// The device asked for does not exist here (no CUDA device, or an index past the last): a
/// caller that chose "auto" goes on on the CPU.
class DeviceUnavailable : public ModelError {
public:
    using ModelError::ModelError;
};

class LidiffModel {
public:
    /// Fresh networks initialised as MinkowskiEngine/PyTorch would, from `seed`.
    /// @throws InvalidArgument for a bad config.
    explicit LidiffModel(const ModelConfig& config, std::uint64_t seed = 0);
    ~LidiffModel();
    LidiffModel(LidiffModel&&) noexcept;
    LidiffModel& operator=(LidiffModel&&) noexcept;

    /// Loads a safetensors file written by save() or by the checkpoint converter.
    /// @throws IoError naming the file for a missing, corrupt or mismatching file.
    static LidiffModel load(const std::filesystem::path& file);
    /// The model of `file` with the refiner of `refinerFile` (LiDiff publishes its refiner as a
    /// separate refine_net.ckpt; converted, it is a refiner-only model file). The refiner
    /// replaces one `file` may have. @throws IoError naming the file that is missing, corrupt,
    /// has no refiner, or is of another width or voxel size than `file`.
    static LidiffModel load(const std::filesystem::path& file,
                            const std::filesystem::path& refinerFile);
    /// Writes all networks and the config, atomically. @throws IoError.
    void save(const std::filesystem::path& file) const;

    /// Moves the networks to `device` ("cpu", "cuda" or "cuda:N"); later calls compute there
    /// (inputs and results stay host-side). save() writes the same file from any device.
    /// @throws InvalidArgument for a malformed device name; ModelError if this build or
    ///         machine has no such device.
    void setDevice(const std::string& device);
    /// The device the networks are on, as torch spells it ("cpu", "cuda:0").
    std::string device() const;

    const ModelConfig& config() const;
    /// Copies the weights of every network both models have (same shapes: same width), or only
    /// of `network` ("encoder", "denoiser", "refiner") when given.
    /// @throws InvalidArgument naming the first tensor that differs.
    void copyNetworksFrom(const LidiffModel& other, const std::string& network = "");
    std::vector<NetworkSummary> summary() const;

    /// One denoiser call: the predicted noise for every point of `noisy` at diffusion step `t`,
    /// conditioned on `partial` (the scan), as LiDiff's MinkUNetDiff(x_t, encoder(partial), t).
    /// @throws ModelError if the model lacks the encoder or denoiser; InvalidArgument for
    ///         empty or non-finite clouds.
    std::vector<Vec3f> denoise(const PointCloud& noisy, const PointCloud& partial, int t) const;
    /// The refiner's per-point output (refinerOutChannels values a point, row-major).
    /// @throws ModelError if the model has no refiner.
    std::vector<float> refine(const PointCloud& cloud) const;

    /// The networks themselves (core/ml/ModelImpl.h, internal to lidistill_ml).
    struct Impl;
    Impl& impl() const;

private:
    std::unique_ptr<Impl> m_impl;
};

}  // namespace lidistill::ml
