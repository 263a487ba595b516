#include "proxy/telemetry/workload_name.h"

#include <algorithm>
#include <vector>

namespace mesh::proxy::telemetry {
namespace {

bool isAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool allAlnum(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), isAlnum); }
bool allDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string lookup(const std::map<std::string, std::string>& labels, const char* first,
                   const char* second) {
  if (auto it = labels.find(first); it != labels.end()) return it->second;
  if (auto it = labels.find(second); it != labels.end()) return it->second;
  return {};
}

}  // namespace

std::string workloadFromPodName(std::string_view pod) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    size_t dash = pod.find('-', start);
    parts.push_back(pod.substr(start, dash - start));
    if (dash == std::string_view::npos) break;
    start = dash + 1;
  }
  size_t keep = parts.size();
  // The random pod suffix is 5 characters; a ReplicaSet's pod-template hash before it is 6-10.
  if (keep >= 2 && parts[keep - 1].size() == 5 && allAlnum(parts[keep - 1])) {
    --keep;
    if (keep >= 2 && parts[keep - 1].size() >= 6 && parts[keep - 1].size() <= 10 &&
        allAlnum(parts[keep - 1])) {
      --keep;
    }
  } else if (keep >= 2 && allDigits(parts[keep - 1])) {
    --keep;
  }
  std::string out;
  for (size_t i = 0; i < keep; ++i) {
    if (i) out += '-';
    out += parts[i];
  }
  return out;
}

PeerMetadata selfMetadata(std::string workload, std::string ns,
                          const std::map<std::string, std::string>& labels, std::string cluster) {
  PeerMetadata m;
  m.workload = std::move(workload);
  m.ns = std::move(ns);
  m.app = lookup(labels, "app", "app.kubernetes.io/name");
  m.version = lookup(labels, "version", "app.kubernetes.io/version");
  m.cluster = std::move(cluster);
  return m;
}

}  // namespace mesh::proxy::telemetry
