// SPDX-License-Identifier: MIT
#include "core/cli/Args.h"

#include <charconv>
#include <string>
#include <string_view>
#include <vector>

namespace lidistill::cli {

Args::Args(const std::vector<std::string>& argv, const std::vector<OptionSpec>& specs,
           std::size_t minPositional, std::size_t maxPositional) {
    for (std::size_t i = 0; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (a.size() > 2 && a.rfind("--", 0) == 0) {
            std::string name = a.substr(2), val;
            const auto eq = name.find('=');
            const bool inlineValue = eq != std::string::npos;
            if (inlineValue) {
                val = name.substr(eq + 1);
                name = name.substr(0, eq);
            }
            const OptionSpec* spec = nullptr;
            for (const auto& s : specs) {
                if (s.name == name) spec = &s;
            }
            if (!spec) throw UsageError("unknown option --" + name);
            if (spec->isSwitch) {
                if (inlineValue) throw UsageError("--" + name + " takes no value");
                m_values[name] = "1";
            } else {
                if (!inlineValue) {
                    if (i + 1 >= argv.size()) throw UsageError("--" + name + " needs a value");
                    val = argv[++i];
                }
                m_values[name] = val;
            }
        } else {
            m_positional.push_back(a);
        }
    }
    if (m_positional.size() < minPositional) {
        throw UsageError("expected at least " + std::to_string(minPositional) + " argument(s)");
    }
    if (m_positional.size() > maxPositional) {
        throw UsageError("unexpected argument '" + m_positional[maxPositional] + "'");
    }
}

std::optional<std::string> Args::value(const std::string& name) const {
    auto it = m_values.find(name);
    if (it == m_values.end()) return std::nullopt;
    return it->second;
}

std::string Args::value(const std::string& name, const std::string& fallback) const {
    return value(name).value_or(fallback);
}

double Args::number(const std::string& name, double fallback) const {
    auto v = value(name);
    if (!v) return fallback;
    try {
        std::size_t used = 0;
        double d = std::stod(*v, &used);
        if (used != v->size()) throw std::invalid_argument("trailing");
        return d;
    } catch (const std::exception&) {
        throw UsageError("--" + name + " expects a number, got '" + *v + "'");
    }
}

long long Args::integer(const std::string& name, long long fallback) const {
    auto v = value(name);
    if (!v) return fallback;
    long long out = 0;
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
    if (ec != std::errc() || p != v->data() + v->size()) {
        throw UsageError("--" + name + " expects an integer, got '" + *v + "'");
    }
    return out;
}

// std::stoul would take "1e3" as 1 and "-1" as 2^64-1.
bool parseIndex(std::string_view word, std::size_t& value) {
    const auto [ptr, ec] = std::from_chars(word.data(), word.data() + word.size(), value);
    return ec == std::errc() && ptr == word.data() + word.size();
}

std::vector<std::size_t> frameRange(const Args& args, std::size_t n, const std::string& option) {
    std::size_t a = 0, b = n, step = 1;
    if (auto r = args.value(option)) {
        const auto colon = r->find(':');
        if (colon == std::string::npos) throw UsageError("--" + option + " expects A:B, e.g. 0:9");
        const std::string_view text(*r);
        const auto colon2 = r->find(':', colon + 1);
        const auto bEnd = colon2 == std::string::npos ? r->size() : colon2;
        if ((colon > 0 && !parseIndex(text.substr(0, colon), a)) ||
            (colon + 1 < bEnd && !parseIndex(text.substr(colon + 1, bEnd - colon - 1), b)) ||
            (colon2 != std::string::npos && (!parseIndex(text.substr(colon2 + 1), step) || step == 0))) {
            throw UsageError("--" + option + " expects A:B or A:B:STEP with whole numbers, got '" +
                             *r + "'");
        }
        if (a >= b || b > n) {
            throw UsageError("--" + option + " " + *r +
                             " is outside the sequence's 0:" + std::to_string(n));
        }
    }
    std::vector<std::size_t> frames;
    for (std::size_t i = a; i < b; i += step) frames.push_back(i);
    return frames;
}

}  // namespace lidistill::cli
