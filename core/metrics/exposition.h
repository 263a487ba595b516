// Pieces of the Prometheus text exposition format, shared by the registry's renderer and by
// anything else that writes the format (the proxy's /stats/prometheus adds its own lines).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mesh::core::metrics {

// Metric names: [a-zA-Z_:][a-zA-Z0-9_:]*. Label names: [a-zA-Z_][a-zA-Z0-9_]*, and not
// starting with "__" (reserved by Prometheus).
bool isValidMetricName(std::string_view name);
bool isValidLabelName(std::string_view name);

// Label values escape backslash, double quote and newline; HELP text escapes backslash and
// newline only. Everything else (any UTF-8) is written as is.
void appendEscapedLabelValue(std::string& out, std::string_view value);
void appendEscapedHelp(std::string& out, std::string_view help);

// Integral values print without exponent or fraction ("3600000", not "3.6e+06"); others print
// in the shortest form that reads back to the same double; infinities as +Inf / -Inf.
void appendValue(std::string& out, double value);

// `{a="x",b="y"}` (with `extraName="extraValue"` last when given); nothing for no labels.
void appendLabels(std::string& out, const std::vector<std::string>& names,
                  const std::vector<std::string>& values, std::string_view extraName = {},
                  std::string_view extraValue = {});

}  // namespace mesh::core::metrics
