// SPDX-License-Identifier: MIT
#include "core/ml/Model.h"

#include "core/base/Error.h"
#include "core/base/MemoryBudget.h"
#include "core/ml/ModelImpl.h"
#include "core/ml/io/SafeTensors.h"
#include "core/ml/nn/Networks.h"
#include "core/ml/training/TrainerState.h"

#include <cmath>
#include <cstdlib>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>
#include <tuple>

namespace lidistill::ml {

namespace {
constexpr const char* kConfigKey = "lidistill.config";

}  // namespace

ModelScale ModelScale::lite() {
    // Chosen with bench/ml/bench_ml_lite on a 2-core CPU (README, "The lite scale"): 2 000
    // partial points tiled 4x give 8 000 generated points, which with 0.1 m voxels and a
    // quarter-width network keep a 50-step completion <= 15 s, an 8-step one <= 2 s and a
    // training step <= 0.5 s (width 0.125 halves the times again, at a quarter of the weights).
    ModelScale s;
    s.name = "lite";
    s.partialPoints = 2000;
    s.tile = 4;
    s.fullPoints = 8000;
    s.minRange = 3.5;
    s.maxRange = 50.0;
    return s;
}

ModelScale ModelScale::named(const std::string& name) {
    if (name == "full") return full();
    if (name == "lite") return lite();
    throw InvalidArgument("unknown model scale '" + name + "' (full or lite)");
}

std::string ModelScale::differencesFrom(const ModelScale& o) const {
    std::ostringstream os;
    auto add = [&](const char* what, auto mine, auto theirs) {
        if (mine == theirs) return;
        if (os.tellp() > 0) os << ", ";
        os << what << ' ' << mine << " vs " << theirs;
    };
    add("partial points", partialPoints, o.partialPoints);
    add("tile", tile, o.tile);
    add("ground-truth points", fullPoints, o.fullPoints);
    add("min range", minRange, o.minRange);
    add("max range", maxRange, o.maxRange);
    return os.str();
}

ModelConfig ModelConfig::lite() {
    ModelConfig c;
    c.width = 0.25;
    c.voxelSize = 0.1;
    c.scale = ModelScale::lite();
    return c;
}

std::string ModelConfig::toJson() const {
    nlohmann::ordered_json j{{"format", "lidistill-lidiff"},
                             {"version", 1},
                             {"width", width},
                             {"in_channels", inChannels},
                             {"refiner_out_channels", refinerOutChannels},
                             {"voxel_size", voxelSize},
                             {"has_encoder", hasEncoder},
                             {"has_denoiser", hasDenoiser},
                             {"has_refiner", hasRefiner},
                             {"source", source},
                             {"role", role},
                             {"scale",
                              {{"name", scale.name},
                               {"partial_points", scale.partialPoints},
                               {"tile", scale.tile},
                               {"full_points", scale.fullPoints},
                               {"min_range", scale.minRange},
                               {"max_range", scale.maxRange}}},
                             {"sampling", {{"steps", sampling.steps}, {"guidance", sampling.guidance}}}};
    return j.dump();
}

ModelConfig ModelConfig::fromJson(const std::string& json) {
    ModelConfig c;
    try {
        const auto j = nlohmann::json::parse(json);
        c.width = j.value("width", 1.0);
        c.inChannels = j.value("in_channels", 3);
        c.refinerOutChannels = j.value("refiner_out_channels", 18);
        c.voxelSize = j.value("voxel_size", 0.05);
        c.hasEncoder = j.value("has_encoder", true);
        c.hasDenoiser = j.value("has_denoiser", true);
        c.hasRefiner = j.value("has_refiner", false);
        c.source = j.value("source", std::string());
        c.role = j.value("role", std::string("teacher"));
        if (j.contains("scale")) {
            const auto& s = j.at("scale");
            const ModelScale d;
            c.scale.name = s.value("name", std::string("custom"));
            c.scale.partialPoints = s.value("partial_points", d.partialPoints);
            c.scale.tile = s.value("tile", d.tile);
            c.scale.fullPoints = s.value("full_points", d.fullPoints);
            c.scale.minRange = s.value("min_range", d.minRange);
            c.scale.maxRange = s.value("max_range", d.maxRange);
        }
        if (j.contains("sampling")) {
            c.sampling.steps = j.at("sampling").value("steps", 50);
            c.sampling.guidance = j.at("sampling").value("guidance", 6.0);
        }
    } catch (const nlohmann::json::exception& e) {
        throw InvalidArgument(std::string("malformed model config: ") + e.what());
    }
    if (!(c.voxelSize > 0.0) || c.inChannels < 1 || c.refinerOutChannels < 1) {
        throw InvalidArgument("model config out of range");
    }
    const auto& s = c.scale;
    if (s.partialPoints < 1 || s.partialPoints > 10'000'000 || s.tile < 1 || s.tile > 1000 ||
        s.fullPoints < 1 || s.fullPoints > 100'000'000 || !(s.minRange >= 0) ||
        !(s.maxRange > s.minRange) || !std::isfinite(s.maxRange)) {
        throw InvalidArgument("model scale out of range");
    }
    if (c.sampling.steps < 1 || c.sampling.steps > 1000 || !std::isfinite(c.sampling.guidance)) {
        throw InvalidArgument("model sampling defaults out of range");
    }
    nets::channelPlan(c.width);  // validates the width
    return c;
}

LidiffModel::LidiffModel(const ModelConfig& config, std::uint64_t seed)
    : m_impl(std::make_unique<Impl>()) {
    if (!config.hasEncoder && !config.hasDenoiser && !config.hasRefiner) {
        throw InvalidArgument("a model needs at least one network");
    }
    ModelConfig::fromJson(config.toJson());  // same validation as a loaded file
    torch::manual_seed(seed);
    m_impl->build(config);
}

LidiffModel::~LidiffModel() = default;

LidiffModel::Impl& LidiffModel::impl() const {
    return *m_impl;
}
LidiffModel::LidiffModel(LidiffModel&&) noexcept = default;
LidiffModel& LidiffModel::operator=(LidiffModel&&) noexcept = default;

namespace {

// The networks are built from the metadata, and only then compared tensor by tensor with the
// file: metadata that the file's own tensors contradict (a width of 8, an in_channels of a
// million) would allocate huge networks first. So, before anything is built: each announced
// network's stem kernel must have the shape width and in_channels give, the networks' size
// (LiDiff's parameter counts at width 1, 8.5 M / 24.2 M / 21.7 M, scale with width^2) must not
// exceed twice the tensor bytes the file holds, and it must fit the memory budget.
void checkNetworksAgainstFile(const std::filesystem::path& file, const ModelConfig& c,
                              const SafeTensors& content) {
    const auto cs = nets::channelPlan(c.width);
    double params = 0;
    std::uint64_t fileBytes = 0;
    for (const auto& [name, t] : content.tensors) {
        fileBytes += static_cast<std::uint64_t>(t.numel()) * t.element_size();
    }
    for (const auto& [net, present, atWidth1] :
         {std::tuple{"encoder", c.hasEncoder, 8.5e6}, std::tuple{"denoiser", c.hasDenoiser, 24.2e6},
          std::tuple{"refiner", c.hasRefiner, 21.7e6}}) {
        if (!present) continue;
        params += atWidth1 * c.width * c.width;
        const std::string key = std::string(net) + ".stem.0.kernel";
        const std::vector<std::int64_t> want{27, c.inChannels, cs[0]};
        const torch::Tensor* stem = nullptr;
        for (const auto& [name, t] : content.tensors) {
            if (name == key) stem = &t;
        }
        if (!stem) throw IoError(file, "no " + key + " for the " + net + " its metadata announces");
        if (stem->sizes().vec() != want) {
            std::ostringstream os;
            os << key << " is " << stem->sizes() << ", but the metadata's width " << c.width
               << " and in_channels " << c.inChannels << " need " << c10::IntArrayRef(want);
            throw IoError(file, os.str());
        }
    }
    const auto bytes = static_cast<std::uint64_t>(params * 4);
    if (bytes > 2 * fileBytes + (std::uint64_t{1} << 20)) {
        throw IoError(file, "its metadata (width " + std::to_string(c.width) +
                                ") describes networks of about " + std::to_string(bytes >> 20) +
                                " MiB, but the file holds " + std::to_string(fileBytes >> 20) +
                                " MiB of tensors");
    }
    checkMemoryBudget(file, bytes, "the networks");
}

}  // namespace

LidiffModel LidiffModel::load(const std::filesystem::path& file) {
    const auto content = loadSafeTensors(file);
    auto it = content.metadata.find(kConfigKey);
    if (it == content.metadata.end()) {
        throw IoError(file, std::string("no '") + kConfigKey +
                                "' metadata (not written by lidistill or its converter)");
    }
    ModelConfig config;
    try {
        config = ModelConfig::fromJson(it->second);
    } catch (const InvalidArgument& e) {
        throw IoError(file, e.what());
    }
    checkNetworksAgainstFile(file, config, content);
    LidiffModel model(config, 0);
    std::size_t expected = 0;
    for (auto& [name, module] : model.m_impl->networks()) {
        // Floating conversion only: a published half-precision checkpoint converts as it is.
        applyState(*module, name + ".", content, file, DTypeConversion::Floating);
        std::vector<std::pair<std::string, torch::Tensor>> keys;
        collectState(*module, name + ".", keys);
        expected += keys.size();
    }
    if (expected != content.tensors.size()) {
        throw IoError(file, std::to_string(content.tensors.size() - expected) +
                                " tensors do not belong to the configured networks");
    }
    return model;
}

LidiffModel LidiffModel::load(const std::filesystem::path& file,
                              const std::filesystem::path& refinerFile) {
    const LidiffModel main = load(file);
    const LidiffModel refiner = load(refinerFile);
    const auto& r = refiner.config();
    if (!r.hasRefiner) throw IoError(refinerFile, "has no refiner (refiner.* tensors)");
    if (r.width != main.config().width || r.voxelSize != main.config().voxelSize) {
        throw IoError(refinerFile, "a refiner of width " + std::to_string(r.width) + " and " +
                                       std::to_string(r.voxelSize) + " m voxels, but " +
                                       file.string() + " is of width " +
                                       std::to_string(main.config().width) + " and " +
                                       std::to_string(main.config().voxelSize) + " m voxels");
    }
    ModelConfig c = main.config();
    c.hasRefiner = true;
    c.refinerOutChannels = r.refinerOutChannels;
    c.source += (c.source.empty() ? "" : "; ") + std::string("refiner from ") +
                refinerFile.filename().string();
    LidiffModel merged(c, 0);
    for (const char* net : {"encoder", "denoiser"}) {
        if ((std::string(net) == "encoder" && c.hasEncoder) ||
            (std::string(net) == "denoiser" && c.hasDenoiser)) {
            merged.copyNetworksFrom(main, net);
        }
    }
    merged.copyNetworksFrom(refiner, "refiner");
    return merged;
}

void LidiffModel::save(const std::filesystem::path& file) const {
    SafeTensors content;
    content.metadata[kConfigKey] = m_impl->config.toJson();
    for (auto& [name, module] : m_impl->networks())
        collectState(*module, name + ".", content.tensors);
    saveSafeTensors(file, content);
}

void LidiffModel::setDevice(const std::string& device) {
    std::optional<torch::Device> d;
    try {
        d.emplace(device);
    } catch (const c10::Error&) {
        throw InvalidArgument("unknown device '" + device + "' (expected cpu, cuda or cuda:N)");
    }
    if (d->is_cuda()) {
        const auto count = static_cast<int>(torch::cuda::device_count());
        if (count == 0) {
            throw DeviceUnavailable("device '" + device +
                                    "': no CUDA device (or this libtorch was built without CUDA)");
        }
        if (d->has_index() && d->index() >= count) {
            throw DeviceUnavailable("device '" + device + "': only " + std::to_string(count) +
                                    " CUDA device(s)");
        }
    } else if (!d->is_cpu()) {
        throw ModelError("device '" + device + "' is not supported (cpu or cuda)");
    }
    for (auto& [name, m] : m_impl->networks()) m->to(*d);
    m_impl->device = *d;
}

std::string LidiffModel::device() const {
    return m_impl->device.str();
}

void LidiffModel::copyNetworksFrom(const LidiffModel& other, const std::string& network) {
    if (network.empty()) {
        training::copyNetworks(other.impl(), *m_impl);
        return;
    }
    torch::nn::Module *from = nullptr, *to = nullptr;
    for (auto& [name, m] : other.impl().networks()) {
        if (name == network) from = m;
    }
    for (auto& [name, m] : m_impl->networks()) {
        if (name == network) to = m;
    }
    if (!from || !to) throw InvalidArgument("no '" + network + "' network in both models");
    training::copyWeights(*from, *to);
}

const ModelConfig& LidiffModel::config() const {
    return m_impl->config;
}

std::vector<NetworkSummary> LidiffModel::summary() const {
    std::vector<NetworkSummary> out;
    static const std::map<std::string, std::string> arch{
        {"encoder", "MinkGlobalEnc"}, {"denoiser", "MinkUNetDiff"}, {"refiner", "MinkUNet"}};
    for (auto& [name, module] : m_impl->networks()) {
        std::vector<std::pair<std::string, torch::Tensor>> keys;
        collectState(*module, "", keys);
        out.push_back({name, arch.at(name), nets::parameterCount(*module),
                       static_cast<std::int64_t>(keys.size())});
    }
    return out;
}

std::vector<Vec3f> LidiffModel::denoise(const PointCloud& noisy, const PointCloud& partial,
                                        int t) const {
    if (!m_impl->encoder || !m_impl->denoiser) {
        throw ModelError("this model file has no encoder/denoiser (a refiner-only file?)");
    }
    torch::NoGradGuard guard;
    const auto x = m_impl->field(noisy, "noisy");
    const auto part = m_impl->field(partial, "partial");
    auto cond = m_impl->encoder(part.voxels);
    return detail::cloudOf(m_impl->denoiser(x, cond, torch::full({1}, t, torch::kLong))).xyz;
}

std::vector<float> LidiffModel::refine(const PointCloud& cloud) const {
    if (!m_impl->refiner) throw ModelError("this model file has no refiner");
    torch::NoGradGuard guard;
    auto y = m_impl->refiner(m_impl->field(cloud, "input")).cpu().contiguous();
    return std::vector<float>(y.data_ptr<float>(), y.data_ptr<float>() + y.numel());
}

}  // namespace lidistill::ml
