// SPDX-License-Identifier: MIT
// Pair stores (SQLite files) from another version, another program or a damaged disk: open,
// list with every filter, stats, get, and both exports. Input: the store file.
#include "core/pairs/PairStore.h"
#include "tests/fuzz/FuzzTarget.h"

#include <system_error>

using namespace lidistill;
namespace fs = std::filesystem;

LIDISTILL_FUZZ_TARGET(pair_store) {
    const fs::path file = fuzz::scratchDir() / "pairs.sqlite";
    std::error_code ec;
    for (const char* side : {"-wal", "-shm", "-journal"}) {
        fs::remove(file.string() + side, ec);  // the last input's must not be replayed into this
    }
    fuzz::writeInput("pairs.sqlite", data, size);
    auto store = pairs::PairStore::open(file);
    const auto all = store.list();
    const auto stats = store.stats();
    FUZZ_CHECK(stats.pairs == static_cast<long long>(all.size()));
    FUZZ_CHECK(stats.pending + stats.decided == stats.pairs);
    FUZZ_CHECK(static_cast<long long>(store.list(pairs::Filter::Pending).size()) == stats.pending);
    FUZZ_CHECK(static_cast<long long>(store.list(pairs::Filter::Agreeing).size()) ==
               stats.agreeing);
    FUZZ_CHECK(static_cast<long long>(store.list(pairs::Filter::Overridden).size()) ==
               stats.overridden);
    for (const auto& p : all) {
        const auto again = store.get(p.id);
        FUZZ_CHECK(again && again->id == p.id && again->human == p.human);
        // Cloud names are joined to the store's cloud folder by every reader.
        for (const auto* name : {&p.a.cloud, &p.b.cloud, &p.a.raw, &p.b.raw, &p.partial}) {
            FUZZ_CHECK(name->empty() || (fs::path(*name).filename() == fs::path(*name) &&
                                          *name != "." && *name != ".."));
        }
    }
    store.exportJsonl(fuzz::scratchDir() / "pairs.jsonl");
    store.exportCsv(fuzz::scratchDir() / "pairs.csv");
}
