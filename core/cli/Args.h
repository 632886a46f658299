#pragma once
// SPDX-License-Identifier: MIT

#include "core/base/Error.h"

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lidistill::cli {

/// A command-line mistake (unknown option, missing value): exit code 2 with the usage text.
class UsageError : public Error {
public:
    using Error::Error;
};

/// One option a command accepts. Options take a value unless `isSwitch`.
struct OptionSpec {
    std::string name;  ///< without the leading "--"
    std::string valueName;
    std::string help;
    bool isSwitch = false;
    std::string defaultValue;  ///< shown in --help; empty means "no default"
};

/// Parsed arguments of one command. Accessors throw UsageError on a missing or malformed value.
class Args {
public:
    /// @param argv the words after the command name.
    /// @throws UsageError for unknown options, missing values or wrong positional counts.
    Args(const std::vector<std::string>& argv, const std::vector<OptionSpec>& specs,
         std::size_t minPositional, std::size_t maxPositional);

    const std::vector<std::string>& positional() const { return m_positional; }
    bool has(const std::string& name) const { return m_values.count(name) > 0; }
    bool flag(const std::string& name) const { return has(name); }
    std::optional<std::string> value(const std::string& name) const;
    std::string value(const std::string& name, const std::string& fallback) const;
    double number(const std::string& name, double fallback) const;
    long long integer(const std::string& name, long long fallback) const;

private:
    std::vector<std::string> m_positional;
    std::map<std::string, std::string> m_values;
};

/// The whole of `word` as a frame index (no sign, no exponent, nothing after the digits).
bool parseIndex(std::string_view word, std::size_t& value);
/// The frames of --frames A:B or A:B:STEP (half-open, like Python; A or B may be left out) or
/// all of 0..n.
/// @throws UsageError for a malformed or out-of-range selection.
std::vector<std::size_t> frameRange(const Args& args, std::size_t n,
                                    const std::string& option = "frames");

}  // namespace lidistill::cli
