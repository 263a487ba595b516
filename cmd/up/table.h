// The table mesh up prints once the mesh is up: one row per pod and one for the ingress
// gateway, columns padded like kubectl's.
#pragma once

#include <string>
#include <vector>

namespace mesh::cmd::up {

struct TableRow {
  std::string workload;
  std::string ns;
  std::string identity;
  std::string appUrl;
  std::string adminUrl;
  std::string metricsUrl;
};

std::string formatTable(const std::vector<TableRow>& rows);

}  // namespace mesh::cmd::up
