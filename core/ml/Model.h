#pragma once
// SPDX-License-Identifier: MIT

#include "core/base/PointCloud.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace lidistill::ml {

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
