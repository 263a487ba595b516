#include "cmd/up/table.h"

#include <algorithm>
#include <array>

namespace mesh::cmd::up {

std::string formatTable(const std::vector<TableRow>& rows) {
  using Line = std::array<std::string, 6>;
  std::vector<Line> lines = {
      {"WORKLOAD", "NAMESPACE", "IDENTITY", "APP URL", "ADMIN URL", "METRICS URL"}};
  for (const auto& r : rows) {
    lines.push_back({r.workload, r.ns, r.identity, r.appUrl, r.adminUrl, r.metricsUrl});
  }
  std::array<std::size_t, 6> width{};
  for (const auto& line : lines) {
    for (std::size_t i = 0; i < line.size(); ++i) width[i] = std::max(width[i], line[i].size());
  }
  std::string out;
  for (const auto& line : lines) {
    std::string text;
    for (std::size_t i = 0; i < line.size(); ++i) {
      text += line[i];
      if (i + 1 < line.size()) text += std::string(width[i] - line[i].size() + 3, ' ');
    }
    out += text + "\n";
  }
  return out;
}

}  // namespace mesh::cmd::up
