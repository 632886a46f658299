// SPDX-License-Identifier: MIT
// Per-layer sparse convolution speed on a voxelised real scan (5 cm), as GFLOP/s and as a
// fraction of this machine's float32 GEMM rate measured in the same run; then full denoiser
// forwards on a LiDiff-like 180k-point input (18k scan points x 10 + Gaussian noise).
// Usage: bench_ml_sparse SCAN.bin [noise_m=0.1] [skip_full=0] [device=cpu|cuda]
// On CUDA every timed call ends with a device synchronise, TF32 is off (float32 figures are
// true FP32), and the full forward is warmed up once before timing (cuBLAS/cuDNN set-up).
// The GPU target: one full-width denoiser call at 180k points <= 50 ms on an H100.
#include "core/io/ScanIo.h"
#include "core/ml/engine/SparseOps.h"
#include "core/ml/nn/Networks.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

using namespace lidistill;
using namespace lidistill::ml;

namespace {

torch::Device g_device{torch::kCPU};

void sync() {
    if (g_device.is_cuda()) torch::cuda::synchronize();
}

template <typename F>
double bestSeconds(int reps, F&& f) {
    double best = 1e30;
    for (int r = 0; r < reps; ++r) {
        sync();
        const auto t0 = std::chrono::steady_clock::now();
        f();
        sync();
        best = std::min(
            best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return best;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s SCAN.bin [noise_m] [skip_full] [cpu|cuda]\n", argv[0]);
        return 2;
    }
    const double noise = argc > 2 ? std::stod(argv[2]) : 0.1;
    const bool skipFull = argc > 3 && std::string(argv[3]) == "1";
    if (argc > 4 && std::string(argv[4]) != "cpu") {
        if (std::string(argv[4]) != "cuda" || !torch::cuda::is_available()) {
            std::fprintf(stderr,
                         "device '%s' is not available (cpu, or cuda with a CUDA libtorch)\n",
                         argv[4]);
            return 2;
        }
        g_device = torch::Device(torch::kCUDA);
        at::globalContext().setAllowTF32CuBLAS(false);
        at::globalContext().setAllowTF32CuDNN(false);
    }
    const auto dev = torch::TensorOptions().device(g_device);
    torch::NoGradGuard guard;
    std::printf("device: %s, threads: %d, libtorch %s\n", g_device.str().c_str(),
                torch::get_num_threads(), TORCH_VERSION);

    // Machine GEMM rate (the yardstick): [20000 x 256] x [256 x 256] float32.
    auto a = torch::randn({20000, 256}, dev), b = torch::randn({256, 256}, dev);
    a.mm(b);  // warm-up (library initialisation on CUDA)
    const double gemmS = bestSeconds(5, [&] { auto c = a.mm(b); });
    const double gemmRate = 2.0 * 20000 * 256 * 256 / gemmS / 1e9;
    std::printf("float32 GEMM 20000x256x256: %.1f GFLOP/s\n\n", gemmRate);

    const auto cloud = io::readKittiBin(argv[1]);
    std::vector<float> flat;
    for (const auto& p : cloud.xyz) {
        const double r = std::sqrt(double(p[0]) * p[0] + double(p[1]) * p[1]);
        if (r > 3.5 && r < 50.0 && p[2] > -4.f) flat.insert(flat.end(), p.begin(), p.end());
    }
    auto xyz =
        torch::from_blob(flat.data(), {static_cast<std::int64_t>(flat.size() / 3), 3}).to(g_device);
    auto field = sparse::pointsToVoxels(xyz, torch::zeros({xyz.size(0)}, dev.dtype(torch::kLong)),
                                        xyz, 0.05);
    auto mgr = field.voxels.manager;
    std::printf("scan %s: %lld points in range -> %lld voxels\n", argv[1],
                static_cast<long long>(xyz.size(0)), static_cast<long long>(field.voxels.rows()));
    {
        // Voxelizing the two guidance passes of a step (the scan twice, batches 0 and 1): ours
        // (sort + unique_consecutive) beside libtorch's unique, hash-based on the CPU.
        const auto xs = xyz.repeat({2, 1});
        const auto bs = torch::arange(2, dev.dtype(torch::kLong)).repeat_interleave(xyz.size(0));
        const double ours = bestSeconds(3, [&] { sparse::pointsToVoxels(xs, bs, xs, 0.05); });
        const auto keys = sparse::packKeys(
            torch::cat({bs.unsqueeze(1), torch::round(xs / 0.05).to(torch::kLong)}, 1));
        const double theirs = bestSeconds(3, [&] { at::_unique2(keys, true, true, true); });
        std::printf(
            "voxelizing %lld points: pointsToVoxels %.1f ms; libtorch's unique of the same "
            "keys alone %.1f ms\n",
            static_cast<long long>(xs.size(0)), ours * 1e3, theirs * 1e3);
    }

    struct Layer {
        const char* kind;
        std::int64_t stride, cin, cout;
    };
    const Layer layers[] = {{"sub3", 1, 32, 32},   {"sub3", 1, 96, 96},   {"down2", 1, 32, 32},
                            {"sub3", 2, 32, 32},   {"sub3", 2, 96, 96},   {"sub3", 4, 64, 64},
                            {"sub3", 4, 128, 128}, {"sub3", 8, 128, 128}, {"sub3", 8, 256, 256},
                            {"sub3", 8, 384, 256}, {"up2", 16, 256, 256}, {"sub3", 16, 256, 256}};
    std::printf("%-6s %6s %9s %9s %10s %9s %9s %8s %8s\n", "layer", "stride", "rows", "pairs",
                "C_in->out", "map ms", "conv ms", "GFLOP/s", "of GEMM");
    for (const auto& l : layers) {
        const double m0 = bestSeconds(1, [&] {
            if (std::string(l.kind) == "sub3")
                mgr->submanifoldMap(l.stride);
            else
                mgr->downsampleMap(l.kind == std::string("up2") ? l.stride / 2 : l.stride);
        });
        sparse::KernelMapPtr map =
            std::string(l.kind) == "sub3"
                ? mgr->submanifoldMap(l.stride)
                : mgr->downsampleMap(l.kind == std::string("up2") ? l.stride / 2 : l.stride);
        const bool up = std::string(l.kind) == "up2";
        const std::int64_t rows = up ? map->nOut : map->nIn;
        auto x = torch::randn({rows, l.cin}, dev);
        auto w = torch::randn({map->kernelVolume, l.cin, l.cout}, dev) * 0.05;
        const double s =
            bestSeconds(3, [&] { auto y = sparse::sparseConvolution(x, w, *map, up); });
        const double gflop = 2.0 * map->pairs() * l.cin * l.cout / 1e9;
        std::printf("%-6s %6lld %9lld %9lld %4lld->%-5lld %9.1f %9.1f %8.1f %7.0f%%\n", l.kind,
                    static_cast<long long>(l.stride), static_cast<long long>(rows),
                    static_cast<long long>(map->pairs()), static_cast<long long>(l.cin),
                    static_cast<long long>(l.cout), m0 * 1e3, s * 1e3, gflop / s,
                    100.0 * gflop / s / gemmRate);
    }

    // LiDiff-like x_t: 18k scan points repeated 10x plus noise; condition = the 18k points.
    torch::manual_seed(0);
    auto pick = torch::randperm(xyz.size(0)).slice(0, 0, 18000).to(g_device);
    auto partial = xyz.index_select(0, pick);
    auto noisy = partial.repeat({10, 1}) + torch::randn({180000, 3}).to(g_device) * noise;

    // The conditioning lookup (8 calls a denoiser forward, one per level): every voxel of x_t
    // at a level's stride against the partial scan's stride-16 voxels. The CPU runs its hash
    // ring search; the device path (searchsorted rings) is what CUDA runs.
    {
        const auto zerosB = [&](std::int64_t n) {
            return torch::zeros({n}, dev.dtype(torch::kLong));
        };
        auto qf = sparse::pointsToVoxels(noisy, zerosB(180000), noisy, 0.05);
        auto pf = sparse::pointsToVoxels(partial, zerosB(18000), partial, 0.05);
        const sparse::SparseTensor enc{torch::zeros({pf.voxels.manager->size(16), 1}, dev),
                                       pf.voxels.manager, 16};
        std::printf("\nnearest encoder voxel (%lld encoder rows at stride 16):\n",
                    static_cast<long long>(enc.rows()));
        for (std::int64_t stride : {1, 4, 16}) {
            const sparse::SparseTensor q{torch::zeros({qf.voxels.manager->size(stride), 1}, dev),
                                         qf.voxels.manager, stride};
            const bool portableOnCpu = !g_device.is_cuda();
            const double own = bestSeconds(3, [&] { sparse::nearestEncoderRows(q, enc); });
            double portable = 0;
            if (portableOnCpu) {
                sparse::setPortablePath(true);
                portable = bestSeconds(3, [&] { sparse::nearestEncoderRows(q, enc); });
                sparse::setPortablePath(false);
            }
            std::printf("  stride %2lld, %7lld queries: %s %.1f ms", static_cast<long long>(stride),
                        static_cast<long long>(q.rows()), g_device.is_cuda() ? "cuda" : "cpu",
                        own * 1e3);
            if (portableOnCpu) std::printf(", device path on the cpu %.1f ms", portable * 1e3);
            std::printf("\n");
        }
    }
    if (skipFull) return 0;
    for (double width : {1.0, 0.5}) {
        nets::MinkGlobalEnc enc(width);
        nets::MinkUNetDiff net(width);
        enc->to(g_device);
        net->to(g_device);
        enc->eval();
        net->eval();
        std::int64_t voxels = 0;
        auto forward = [&] {
            auto f = sparse::pointsToVoxels(noisy, torch::zeros({180000}, dev.dtype(torch::kLong)),
                                            noisy, 0.05);
            auto pf = sparse::pointsToVoxels(
                partial, torch::zeros({18000}, dev.dtype(torch::kLong)), partial, 0.05);
            auto cond = enc(pf.voxels);
            auto eps = net(f, cond, torch::tensor({500L}));
            voxels = f.voxels.rows();
        };
        if (g_device.is_cuda()) forward();  // warm-up
        const double s = bestSeconds(g_device.is_cuda() ? 3 : 1, forward);
        std::printf(
            "\nfull denoiser forward (encoder + MinkUNetDiff), width %.2f, 180000 points "
            "(%lld voxels, noise %.2f m): %.1f ms\n",
            width, static_cast<long long>(voxels), noise, s * 1e3);
    }
    return 0;
}
