#pragma once
// SPDX-License-Identifier: MIT
//
// Keeps freed heap memory in the process instead of handing it back to the kernel at once.
// A forward of the sparse networks allocates and frees thousands of tensors of 0.1-30 MB. With
// glibc's defaults (blocks above a dynamic mmap threshold are mmapped; the heap top is trimmed
// above 128 KB free) each of them comes back from the kernel as fresh zeroed pages, and the
// page faults took a third of an 8-step lite completion (perf: 21 % kernel time; 2.9 s ->
// 1.9 s with the tuning; bench/ml/compare_engine.sh measures it). No Qt, no torch.

namespace lidistill {

/// Raises glibc's mmap threshold to 32 MB (its ceiling on 64-bit) and the trim threshold to
/// 256 MB, once per process; a no-op elsewhere or when LIDISTILL_MALLOC_TUNING=0 (how the
/// benchmark measures the defaults). The price: up to 256 MB freed memory stays mapped.
/// @return whether the thresholds are in force after the call.
bool retainFreedMemory();

}  // namespace lidistill
