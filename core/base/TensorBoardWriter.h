#pragma once
// SPDX-License-Identifier: MIT

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace lidistill {

/// Appends scalars to a TensorBoard event file, so training curves can be watched with a stock
/// `tensorboard --logdir` without linking protobuf or TensorFlow: the few messages needed for
/// scalars (Event, Summary, Summary.Value) are hand-encoded in TFRecord framing.
/// TensorBoard treats each folder as one run, so give each run its own `dir`.
/// Not thread-safe: use one writer per thread, or guard it.
class TensorBoardWriter {
public:
    /// Opens a new file `dir/events.out.tfevents.<unix_secs>.<host>.<pid>` (plus `.<n>` if that
    /// name is taken, so a file is never rewritten, even by a second writer in this process) and
    /// writes the file_version record TensorBoard expects first. Creates `dir` if missing.
    /// @throws IoError naming the folder or the file.
    explicit TensorBoardWriter(const std::filesystem::path& dir);

    /// Writes one Event at `step` whose Summary holds every (tag, value) pair, so one step's
    /// metrics share a timestamp. Values are stored as float (TensorBoard's simple_value);
    /// values that are not finite as a float are skipped, since TensorBoard would draw them as
    /// gaps or spikes; nothing is written when none is left. Flushed at once so a live
    /// TensorBoard sees it. @p wallTime is in seconds since the Unix epoch.
    /// @throws IoError naming the file on a write failure; the writer then refuses further
    /// writes, since a torn record would hide everything appended after it.
    void write(long long step, const std::vector<std::pair<std::string, double>>& scalars,
               double wallTime = now());

    /// Tells TensorBoard that the run starts again at `step` (a resumed run): it drops the
    /// earlier files' points at `step` and after, which the killed process logged past its
    /// last checkpoint (Event.session_log = SessionLog{status: START}).
    /// @throws IoError naming the file on a write failure.
    void restartAt(long long step, double wallTime = now());

    const std::filesystem::path& file() const noexcept { return m_path; }

    /// Seconds since the Unix epoch, the unit TensorBoard expects for wall_time.
    static double now();

private:
    void writeRecord(const std::string& data);

    struct FileCloser {
        void operator()(std::FILE* f) const noexcept { std::fclose(f); }
    };
    std::filesystem::path m_path;
    std::unique_ptr<std::FILE, FileCloser> m_file;
};

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) as TFRecord framing uses it, exposed
/// for tests. crc32c("123456789", 9) == 0xE3069283.
std::uint32_t crc32c(const void* data, std::size_t size);

}  // namespace lidistill
