// SPDX-License-Identifier: MIT
// The published checkpoints as the original code defines them: the key list derived from
// PRBonn/LiDiff's module definitions (../shared/reference/lidiff-state-dict-keys.txt), not our
// own parameter names. Our full-width networks must have exactly that parameter set (names and
// shapes, through the converter's prefix mapping), and checkpoints built from the list, laid out
// as published (a diffusion checkpoint plus a separate refine_net.ckpt, with each project's
// prefixes), convert into one model file that loads strictly with every value in place.
#include "core/ml/ModelImpl.h"
#include "core/ml/io/SafeTensors.h"
#include "tests/ml/PythonSupport.h"
#include "tests/support/TestData.h"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

namespace lidistill::ml {
namespace {
namespace fs = std::filesystem;
using Shapes = std::map<std::string, std::vector<std::int64_t>>;

fs::path keyList() {
    return test::sharedData() / ".." / "reference" / "lidiff-state-dict-keys.txt";
}

// The converter's mapping of the published prefixes onto our network names.
std::string ourName(const std::string& published) {
    for (const auto& [from, to] : {std::pair{"partial_enc.", "encoder."},
                                   std::pair{"model_refine.", "refiner."},
                                   std::pair{"model.", "denoiser."}}) {
        if (published.rfind(from, 0) == 0) return to + published.substr(std::strlen(from));
    }
    ADD_FAILURE() << "unexpected prefix: " << published;
    return published;
}

Shapes publishedShapes() {
    Shapes out;
    std::ifstream in(keyList());
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        const auto space = line.find(' ');
        out[ourName(line.substr(0, space))] =
            nlohmann::json::parse(line.substr(space + 1)).get<std::vector<std::int64_t>>();
    }
    return out;
}

TEST(PublishedCheckpoints, OurFullWidthNetworksHaveExactlyThePublishedParameters) {
    if (!fs::exists(keyList())) GTEST_SKIP() << "no " << keyList();
    const Shapes published = publishedShapes();
    ASSERT_EQ(published.size(), 842u);  // 150 encoder + 394 denoiser + 298 refiner entries
    ModelConfig c;
    c.width = 1.0;
    c.hasRefiner = true;
    const LidiffModel model(c, 0);
    std::vector<std::pair<std::string, torch::Tensor>> state;
    for (auto& [name, module] : model.impl().networks()) collectState(*module, name + ".", state);
    Shapes ours;
    for (const auto& [name, t] : state) ours[name] = t.sizes().vec();
    std::ostringstream missing, extra, shape;
    for (const auto& [name, s] : published) {
        auto it = ours.find(name);
        if (it == ours.end()) {
            missing << ' ' << name;
        } else if (it->second != s) {
            shape << ' ' << name << " (ours " << c10::IntArrayRef(it->second) << ", published "
                  << c10::IntArrayRef(s) << ')';
        }
    }
    for (const auto& [name, s] : ours) {
        if (!published.count(name)) extra << ' ' << name;
    }
    EXPECT_EQ(missing.str(), "") << "published tensors we lack";
    EXPECT_EQ(extra.str(), "") << "tensors of ours the published files lack";
    EXPECT_EQ(shape.str(), "") << "shapes that differ";
}

class PublishedConverter : public ::testing::TestWithParam<std::string> {};

TEST_P(PublishedConverter, DiffusionAndRefinerCheckpointsBecomeOneModelWithEveryValue) {
    if (pytest::python().empty()) GTEST_SKIP() << "no python3 with torch";
    if (!fs::exists(keyList())) GTEST_SKIP() << "no " << keyList();
    const auto dir = test::scratchDir();
    const auto src = pytest::sourceDir();
    pytest::runCommand(pytest::python() + " " + (src / "tests/ml/ml_test_helper.py").string() +
                       " published-ckpt " + keyList().string() + " " + GetParam() + " " +
                       (dir / "diff.ckpt").string() + " " + (dir / "refine.ckpt").string() + " " +
                       (dir / "sums.json").string());
    const auto out = pytest::runCommand(
        pytest::python() + " " + (src / "resources/tools/convert_lightning_checkpoint.py").string() +
        " " + (dir / "diff.ckpt").string() + " " + (dir / "refine.ckpt").string() + " " +
        (dir / "model.safetensors").string());
    // The student, not its teacher or auxiliary copies, became the denoiser.
    const std::string denoiser = GetParam() == "lidiff"        ? "denoiser model."
                                 : GetParam() == "dpo-teacher" ? "denoiser DiffModel."
                                                               : "denoiser generator.";
    EXPECT_NE(out.find(denoiser), std::string::npos) << out;
    EXPECT_NE(out.find("refiner model_refine. from refine.ckpt"), std::string::npos) << out;

    const auto model = LidiffModel::load(dir / "model.safetensors");  // strict: every key
    EXPECT_EQ(model.config().width, 1.0);
    EXPECT_TRUE(model.config().hasEncoder && model.config().hasDenoiser &&
                model.config().hasRefiner);
    EXPECT_EQ(model.config().refinerOutChannels, 18);
    // Students sample as they were distilled to, teachers as LiDiff does (reference 0.1).
    const bool student = GetParam() == "scorelidar" || GetParam() == "dpo";
    EXPECT_EQ(model.config().role, student ? "student" : "teacher");
    EXPECT_EQ(model.config().sampling.steps, student ? 8 : 50);
    EXPECT_EQ(model.config().sampling.guidance, student ? 3.5 : 6.0);
    std::ifstream sumsFile(dir / "sums.json");
    const auto sums = nlohmann::json::parse(sumsFile);
    const auto content = loadSafeTensors(dir / "model.safetensors");
    ASSERT_EQ(content.tensors.size(), sums.size());
    for (const auto& [name, t] : content.tensors) {
        ASSERT_TRUE(sums.contains(name)) << name;
        const double want = sums[name].get<double>();
        EXPECT_NEAR(t.to(torch::kDouble).sum().item<double>(), want, 1e-6 * (1 + std::abs(want)))
            << name;
    }
}

INSTANTIATE_TEST_SUITE_P(Flavours, PublishedConverter,
                         ::testing::Values("lidiff", "scorelidar", "dpo", "dpo-teacher"),
                         [](const auto& info) {
                             std::string n = info.param;
                             for (auto& ch : n) {
                                 if (ch == '-') ch = '_';
                             }
                             return n;
                         });

// Unpickling runs code: a class outside what a Lightning checkpoint holds is refused, naming
// it, and nothing is written; --trust-checkpoint is the way past it.
TEST(PublishedConverter, AClassOutsideTheAllowListIsRefusedUnlessTrusted) {
    if (pytest::python().empty()) GTEST_SKIP() << "no python3 with torch";
    const auto dir = test::scratchDir();
    const auto src = pytest::sourceDir();
    pytest::runCommand(pytest::python() + " " + (src / "tests/ml/ml_test_helper.py").string() +
                       " gadget-ckpt " + (dir / "g.ckpt").string());
    const std::string convert =
        pytest::python() + " " + (src / "resources/tools/convert_lightning_checkpoint.py").string() +
        " " + (dir / "g.ckpt").string() + " " + (dir / "g.safetensors").string();
    int rc = 0;
    auto out = pytest::runCommand(convert, true, &rc);
    EXPECT_NE(rc, 0);
    EXPECT_NE(out.find("__main__.Gadget"), std::string::npos) << out;
    EXPECT_NE(out.find("--trust-checkpoint"), std::string::npos) << out;
    EXPECT_FALSE(fs::exists(dir / "g.safetensors"));
    // Trusted, the pickle is read (and the file then fails for what it lacks: a network).
    out = pytest::runCommand(convert + " --trust-checkpoint", true, &rc);
    EXPECT_NE(rc, 0);
    EXPECT_EQ(out.find("Gadget"), std::string::npos) << out;
    EXPECT_NE(out.find("stem.0.kernel"), std::string::npos) << out;
}

}  // namespace
}  // namespace lidistill::ml
