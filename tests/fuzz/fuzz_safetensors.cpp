// SPDX-License-Identifier: MIT
// safetensors files (models, checkpoints from strangers): the header reader that runs before
// any tensor byte is read or allocated (core/ml/io/SafeTensorsHeader.h, torch-free, so this
// target needs no libtorch). Input: the file.
#include "core/ml/io/SafeTensorsHeader.h"
#include "tests/fuzz/FuzzTarget.h"

using namespace lidistill;

LIDISTILL_FUZZ_TARGET(safetensors) {
    const auto file = fuzz::writeInput("model.safetensors", data, size);
    const ml::SafeTensorsHeader h = ml::readSafeTensorsHeader(file);
    FUZZ_CHECK(h.dataOffset + h.dataSize == size);
    std::uint64_t previousEnd = 0;
    for (const auto& e : h.entries) {
        // Every tensor lies inside the data, in order, without overlap, and holds exactly the
        // bytes its dtype and shape need: what loadSafeTensors then copies without checking.
        FUZZ_CHECK(e.begin <= e.end && e.end <= h.dataSize);
        FUZZ_CHECK(e.begin == e.end || e.begin >= previousEnd);
        std::uint64_t numel = 1;
        for (const auto d : e.shape) {
            FUZZ_CHECK(d >= 0);
            numel *= static_cast<std::uint64_t>(d);
        }
        FUZZ_CHECK(e.end - e.begin == numel * e.elementSize);
        FUZZ_CHECK(e.elementSize == ml::safeTensorsElementSize(e.dtype));
        if (e.end > e.begin) previousEnd = e.end;
    }
    for (const auto& [k, v] : h.metadata) FUZZ_CHECK(v.size() <= ml::kMaxMetadataValueBytes);
}
