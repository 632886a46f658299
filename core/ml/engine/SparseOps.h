#pragma once
// SPDX-License-Identifier: MIT
//
// Internal header of lidistill_ml: sparse operations with autograd. Weight layout is
// MinkowskiEngine's: [K, C_in, C_out] (1x1 convolutions: [C_in, C_out]); no bias.
//
// What runs where on CUDA (no .cu sources yet: the CUDA path is libtorch ops on CUDA tensors).
// A CoordinateManager lives on the device of the coordinates it was built from; keys, levels
// and kernel maps stay there. Features, weights and coordinates must share one device
// (sparseConvolution throws otherwise, never copies).
//   * keys, levels, unique/inverse (pointsToVoxels), stride-2 maps: device tensor ops. Host
//     syncs: the range/duplicate checks (.item) when a manager or level is built, and the
//     8 per-offset counts of a stride-2 map (.cpu() once per map, cached).
//   * submanifold maps: the CPU merges sorted key arrays (a CPU-only loop over data_ptr);
//     CUDA runs one batched searchsorted over all K offsets, then nonzero + bincount
//     (2 host syncs per map, cached per manager). Maps are identical (tested).
//   * convolution forward/backward: per offset index_select + mm/addmm + a scatter; the CPU
//     scatters with a parallel loop, CUDA with index_add_ (rows are unique within an offset,
//     so the result is deterministic). Offsets live on the host: no syncs in this loop.
//   * 1x1 conv, BN, ReLU, concat, voxelsToPoints, the MLPs: plain libtorch ops.
//   * nearestEncoderRows: the CPU searches a KD-tree of encoder rows per batch element;
//     CUDA probes the 3^3 (then 7^3) cells around each distinct query cell with searchsorted,
//     takes segment minima over the candidates (scatter_reduce amin), and scans the batch
//     element for queries no block certified (about 6 host syncs a call). Same results (tested).
//   * Not bitwise deterministic on CUDA: the per-voxel mean in pointsToVoxels and the
//     backward of voxelsToPoints (index_add_ with repeated rows uses atomics).
// setPortablePath(true) sends CPU tensors down the CUDA branch of every item above, so CI
// checks that logic without a GPU (tests/ml/DeviceTest*.cpp).

#include "core/ml/engine/SparseTensor.h"

namespace lidistill::ml::sparse {

/// Gather-GEMM-scatter over a kernel map, with a custom autograd backward:
/// out[o] = sum_k sum_{(i, o) in map_k} feats[i] @ weight[k]. With `transposed`, the roles of
/// the map's in/out rows swap (ME's transposed convolution onto the existing finer rows).
/// Deterministic: offsets are processed in order and rows are unique within one offset.
/// @param feats [N_in, C_in]; @param weight [K, C_in, C_out]. @return [N_out, C_out].
/// @throws InvalidArgument on shape mismatches.
torch::Tensor sparseConvolution(const torch::Tensor& feats, const torch::Tensor& weight,
                                const KernelMap& map, bool transposed);

/// ks^3 submanifold convolution (outputs on the input rows). weight [ks^3, C_in, C_out].
SparseTensor submanifoldConv(const SparseTensor& x, const torch::Tensor& weight,
                             std::int64_t dilation = 1);
/// 2x2x2 stride-2 convolution: rows of stride 2 * x.stride. weight [8, C_in, C_out].
SparseTensor downsampleConv(const SparseTensor& x, const torch::Tensor& weight);
/// 2x2x2 stride-2 transposed convolution onto the existing rows at x.stride / 2.
SparseTensor upsampleConv(const SparseTensor& x, const torch::Tensor& weight);
/// 1x1 convolution, weight [C_in, C_out] (ME stores it so).
SparseTensor pointwiseConv(const SparseTensor& x, const torch::Tensor& weight);

/// ReLU / LeakyReLU on the features.
SparseTensor relu(const SparseTensor& x);
SparseTensor leakyRelu(const SparseTensor& x, double slope);
/// ME.cat: channel concatenation [a, b] of two tensors on the same rows.
/// @throws InvalidArgument if they are not on the same manager and stride.
SparseTensor concat(const SparseTensor& a, const SparseTensor& b);

/// For every row of `query`, the row of `encoder` (same batch element) whose ME-unit coordinates
/// are nearest in Euclidean distance; ties go to the lowest encoder row. Exact grid search
/// (cells of the encoder's stride, rings searched until the best distance is certified), with
/// a brute-force scan of the batch element when the rings would cost more than the scan.
/// @return int64 [N_query] on the query's device.
/// @throws InvalidArgument if a query's batch element has no encoder rows.
torch::Tensor nearestEncoderRows(const SparseTensor& query, const SparseTensor& encoder);

/// How nearestEncoderRows() breaks ties. LiDiff's KeOps argKmin leaves the order undefined;
/// Lowest (the default) is ours. Highest exists to measure how much that choice matters
/// (bench/ml/TieBench.cpp); it is a process-wide setting, CPU path only.
enum class NearestTieRule { Lowest, Highest };
void setNearestTieRule(NearestTieRule rule);
NearestTieRule nearestTieRule();

}  // namespace lidistill::ml::sparse
