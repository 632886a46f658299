// SPDX-License-Identifier: MIT
#include "core/base/Error.h"
#include "core/ml/Model.h"
#include "core/ml/io/SafeTensors.h"
#include "core/ml/nn/Networks.h"
#include "tests/ml/PythonSupport.h"
#include "tests/support/TestData.h"

#include <array>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <random>

namespace lidistill::ml {
namespace {

using pytest::python;
using pytest::runCommand;
using pytest::sourceDir;

PointCloud randomCloud(int n, unsigned seed, float scale) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0.f, scale);
    PointCloud c;
    for (int i = 0; i < n; ++i) c.xyz.push_back({d(rng), d(rng), d(rng)});
    return c;
}

ModelConfig smallConfig() {
    ModelConfig c;
    c.width = 0.25;
    c.hasRefiner = true;
    return c;
}

TEST(SafeTensors, ModelRoundTripGivesIdenticalTensorsAndOutputs) {
    const auto dir = test::scratchDir();
    LidiffModel a(smallConfig(), 5);
    a.save(dir / "m.safetensors");
    auto b = LidiffModel::load(dir / "m.safetensors");
    EXPECT_EQ(b.config().width, 0.25);
    EXPECT_TRUE(b.config().hasRefiner);
    ASSERT_EQ(a.summary().size(), 3u);
    for (std::size_t i = 0; i < 3; ++i)
        EXPECT_EQ(a.summary()[i].parameters, b.summary()[i].parameters);
    const auto noisy = randomCloud(500, 1, 2.f), partial = randomCloud(200, 2, 2.f);
    const auto ea = a.denoise(noisy, partial, 300), eb = b.denoise(noisy, partial, 300);
    ASSERT_EQ(ea.size(), 500u);
    EXPECT_EQ(ea, eb);
    EXPECT_EQ(a.refine(noisy), b.refine(noisy));
    LidiffModel c(smallConfig(), 6);
    EXPECT_NE(c.denoise(noisy, partial, 300), ea);  // a different seed is a different model
}

// Metadata that the file's tensors contradict is refused before any network is built (a
// width of 8 would allocate tens of GB first), naming the file and what disagrees.
TEST(SafeTensors, MetadataIsCheckedAgainstTheTensorsBeforeNetworksAreBuilt) {
    const auto dir = test::scratchDir();
    LidiffModel(smallConfig(), 5).save(dir / "ok.safetensors");
    const auto good = loadSafeTensors(dir / "ok.safetensors");
    auto forge = [&](const std::string& name, auto&& change) {
        SafeTensors st = good;
        auto config = nlohmann::json::parse(st.metadata.at("lidistill.config"));
        change(config, st);
        st.metadata["lidistill.config"] = config.dump();
        saveSafeTensors(dir / name, st);
        return dir / name;
    };
    auto refused = [](const std::filesystem::path& f, const std::string& words) {
        try {
            LidiffModel::load(f);
            ADD_FAILURE() << f << " was loaded";
        } catch (const IoError& e) {
            EXPECT_NE(std::string(e.what()).find(f.filename().string()), std::string::npos);
            EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
        }
    };
    refused(forge("wide.safetensors", [](auto& c, auto&) { c["width"] = 8.0; }),
            "encoder.stem.0.kernel is [27, 3, 8], but the metadata's width 8");
    refused(forge("inputs.safetensors", [](auto& c, auto&) { c["in_channels"] = 100000; }),
            "in_channels 100000");
    // A stem forged to match width 8, with nothing behind it: the size check.
    refused(forge("stem.safetensors",
                  [](auto& c, auto& st) {
                      c["width"] = 8.0;
                      c["has_denoiser"] = false;
                      c["has_refiner"] = false;
                      st.tensors = {{"encoder.stem.0.kernel", torch::zeros({27, 3, 256})}};
                  }),
            "describes networks of about");
    EXPECT_NO_THROW(LidiffModel::load(dir / "ok.safetensors"));
}

TEST(SafeTensors, CorruptOrTruncatedFilesNameTheFile) {
    const auto dir = test::scratchDir();
    SafeTensors st;
    st.tensors.emplace_back("w", torch::arange(12, torch::kFloat).view({3, 4}));
    st.tensors.emplace_back("n", torch::tensor({7L}));
    st.metadata["k"] = "v";
    saveSafeTensors(dir / "ok.safetensors", st);
    auto back = loadSafeTensors(dir / "ok.safetensors");
    ASSERT_EQ(back.tensors.size(), 2u);
    EXPECT_TRUE(torch::equal(back.tensors[0].second, st.tensors[0].second));
    EXPECT_EQ(back.metadata.at("k"), "v");

    std::ifstream in(dir / "ok.safetensors", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    auto writeBytes = [&](const std::string& name, const std::string& b) {
        std::ofstream(dir / name, std::ios::binary) << b;
        return dir / name;
    };
    const std::vector<std::filesystem::path> bad{
        writeBytes("truncated.safetensors", bytes.substr(0, bytes.size() - 5)),
        writeBytes("short.safetensors", bytes.substr(0, 5)),
        writeBytes("header.safetensors", bytes.substr(0, 8) + std::string(bytes.size() - 8, '{')),
        dir / "missing.safetensors"};
    for (const auto& f : bad) {
        try {
            loadSafeTensors(f);
            ADD_FAILURE() << f << " loaded";
        } catch (const IoError& e) {
            EXPECT_NE(std::string(e.what()).find(f.filename().string()), std::string::npos)
                << e.what();
        }
    }
    // A valid file that is not a model: clear error, no crash.
    EXPECT_THROW(LidiffModel::load(dir / "ok.safetensors"), IoError);

    // A shape whose element count overflows 64 bits (2^40 x 2^40 x 2^40 wraps to 0) with empty
    // offsets: refused naming the file and the tensor, before anything is allocated.
    auto withHeader = [&](const std::string& name, const std::string& json, std::size_t data) {
        std::string h = json;
        h.append((8 - h.size() % 8) % 8, ' ');
        std::string b(8, '\0');
        const std::uint64_t len = h.size();
        std::memcpy(b.data(), &len, 8);
        return writeBytes(name, b + h + std::string(data, '\0'));
    };
    const auto huge = withHeader(
        "huge.safetensors",
        R"({"w":{"dtype":"F32","shape":[1099511627776,1099511627776,1099511627776],)"
        R"("data_offsets":[0,0]}})",
        0);
    try {
        loadSafeTensors(huge);
        ADD_FAILURE() << "an overflowing shape loaded";
    } catch (const IoError& e) {
        EXPECT_NE(std::string(e.what()).find("huge.safetensors"), std::string::npos);
        EXPECT_NE(std::string(e.what()).find("tensor 'w'"), std::string::npos) << e.what();
    }
    // Offsets past the end of a short file: refused from the header alone.
    const auto past = withHeader(
        "past.safetensors",
        R"({"w":{"dtype":"F32","shape":[1000000],"data_offsets":[0,4000000]}})", 16);
    EXPECT_THROW(loadSafeTensors(past), IoError);
}

TEST(SafeTensors, DTypeMustMatchUnlessAFloatingConversionIsAsked) {
    const auto dir = test::scratchDir();
    nets::MinkGlobalEnc source(0.25);
    SafeTensors half;
    std::vector<std::pair<std::string, torch::Tensor>> state;
    collectState(*source, "encoder.", state);
    std::string integer;  // an integer buffer, if the network has one
    for (const auto& [name, t] : state) {
        if (!t.is_floating_point() && integer.empty()) integer = name;
        half.tensors.emplace_back(name, t.is_floating_point() ? t.to(torch::kHalf) : t);
    }
    saveSafeTensors(dir / "half.safetensors", half);
    const auto back = loadSafeTensors(dir / "half.safetensors");
    nets::MinkGlobalEnc target(0.25);
    try {
        applyState(*target, "encoder.", back, dir / "half.safetensors");
        ADD_FAILURE() << "a half-precision file was applied without a conversion asked";
    } catch (const IoError& e) {
        EXPECT_NE(std::string(e.what()).find("is F16, the network expects F32"),
                  std::string::npos)
            << e.what();
    }
    applyState(*target, "encoder.", back, dir / "half.safetensors", DTypeConversion::Floating);
    std::vector<std::pair<std::string, torch::Tensor>> got;
    collectState(*target, "encoder.", got);
    for (std::size_t i = 0; i < got.size(); ++i) {
        const auto want = state[i].second.is_floating_point()
                              ? state[i].second.to(torch::kHalf).to(torch::kFloat)
                              : state[i].second;
        EXPECT_TRUE(torch::equal(got[i].second, want)) << got[i].first;
    }
    if (integer.empty()) return;
    // Floating conversion never turns a float into an integer buffer.
    SafeTensors wrong = back;
    for (auto& [name, t] : wrong.tensors) {
        if (name == integer) t = t.to(torch::kFloat);
    }
    try {
        applyState(*target, "encoder.", wrong, dir / "wrong.safetensors",
                   DTypeConversion::Floating);
        ADD_FAILURE() << "a float " << integer << " was applied to an integer buffer";
    } catch (const IoError& e) {
        EXPECT_NE(std::string(e.what()).find("tensor '" + integer + "' is F32"),
                  std::string::npos)
            << e.what();
    }
}

TEST(SafeTensors, IndependentPythonReaderAgrees) {
    if (python().empty()) GTEST_SKIP() << "no python3 with numpy";
    const auto dir = test::scratchDir();
    LidiffModel m(smallConfig(), 9);
    m.save(dir / "m.safetensors");
    const auto out =
        runCommand(python() + " " + (sourceDir() / "tests/ml/ml_test_helper.py").string() +
                   " read " + (dir / "m.safetensors").string());
    const auto j = nlohmann::json::parse(out);
    const auto content = loadSafeTensors(dir / "m.safetensors");
    ASSERT_EQ(j["tensors"].size(), content.tensors.size());
    for (const auto& [name, t] : content.tensors) {
        ASSERT_TRUE(j["tensors"].contains(name)) << name;
        EXPECT_EQ(j["tensors"][name]["shape"].get<std::vector<std::int64_t>>(), t.sizes().vec());
        const double sum = t.to(torch::kDouble).sum().item<double>();
        EXPECT_NEAR(j["tensors"][name]["sum"].get<double>(), sum, 1e-9 * (1 + std::abs(sum)))
            << name;
    }
    EXPECT_EQ(ModelConfig::fromJson(j["metadata"]["lidistill.config"].get<std::string>()).width,
              0.25);
}

class Converter : public ::testing::TestWithParam<std::string> {};

TEST_P(Converter, LightningCheckpointLoadsAndMatchesAnIndependentStem) {
    if (python().empty()) GTEST_SKIP() << "no python3 with torch";
    const auto dir = test::scratchDir();
    const auto src = sourceDir();
    LidiffModel(smallConfig(), 1).save(dir / "shape.safetensors");
    runCommand(python() + " " + (src / "tests/ml/ml_test_helper.py").string() + " make-ckpt " +
               (dir / "shape.safetensors").string() + " " + (dir / "x.ckpt").string() + " " +
               (dir / "ref.safetensors").string() + " " + GetParam());
    runCommand(python() + " " + (src / "resources/tools/convert_lightning_checkpoint.py").string() +
               " " + (dir / "x.ckpt").string() + " " + (dir / "conv.safetensors").string());

    auto model = LidiffModel::load(dir / "conv.safetensors");
    EXPECT_EQ(model.config().width, 0.25);
    EXPECT_TRUE(model.config().hasEncoder && model.config().hasDenoiser &&
                model.config().hasRefiner);
    const auto conv = loadSafeTensors(dir / "conv.safetensors");
    const auto ref = loadSafeTensors(dir / "ref.safetensors");
    auto get = [](const SafeTensors& s, const std::string& n) {
        for (const auto& [k, v] : s.tensors) {
            if (k == n) return v;
        }
        throw std::runtime_error("no tensor " + n);
    };
    // The student (not the zeroed teacher) became the denoiser.
    EXPECT_TRUE(torch::equal(get(conv, "denoiser.up1.1.0.net.0.kernel"),
                             get(ref, "check.up1.1.0.net.0.kernel")));

    nets::MinkGlobalEnc enc(0.25);
    applyState(*enc, "encoder.", conv, dir / "conv.safetensors");
    enc->eval();
    torch::NoGradGuard guard;
    auto pts = get(ref, "points");
    auto field = sparse::pointsToVoxels(pts, torch::zeros({pts.size(0)}, torch::kLong), pts, 0.05);
    auto stem = enc->stem(field.voxels);
    ASSERT_TRUE(torch::equal(stem.coords().slice(1, 1, 4), get(ref, "coords")));
    auto expected = get(ref, "stem");
    const double err = (stem.feats.to(torch::kDouble) - expected).abs().max().item<double>() /
                       expected.abs().max().item<double>();
    EXPECT_LT(err, 1e-5);
    EXPECT_GT(expected.abs().max().item<double>(), 1e-3);
    // And the whole loaded model runs.
    const auto eps = model.denoise(randomCloud(300, 4, 1.f), randomCloud(100, 5, 1.f), 50);
    EXPECT_EQ(eps.size(), 300u);
}

INSTANTIATE_TEST_SUITE_P(Flavours, Converter, ::testing::Values("lidiff", "scorelidar", "dpo"));

}  // namespace
}  // namespace lidistill::ml
