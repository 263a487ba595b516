// Shared pieces of pilot's unit tests: a temporary config directory, loading YAML text into a
// ConfigSet, and a MeshView over it with chosen proxy workloads.
#pragma once

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "core/config/loader.h"
#include "pilot/compile/compiler.h"
#include "pilot/source/config_set.h"

namespace mesh::test {

class ConfigDir {
 public:
  ConfigDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mesh-pilot-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~ConfigDir() { std::filesystem::remove_all(path_); }
  ConfigDir(const ConfigDir&) = delete;
  ConfigDir& operator=(const ConfigDir&) = delete;
  const std::string& path() const { return path_; }
  // Writes through a temporary file and a rename, as editors and kubectl do.
  void write(const std::string& name, const std::string& text) const {
    auto target = std::filesystem::path(path_) / name;
    std::filesystem::create_directories(target.parent_path());
    auto tmp = target.string() + ".tmp~";
    std::ofstream(tmp) << text;
    std::filesystem::rename(tmp, target);
  }

 private:
  std::string path_;
};

inline pilot::ConfigSetPtr configFrom(const std::string& yaml, const pilot::ConfigSet* previous = nullptr) {
  core::config::LoadResult loaded;
  core::config::loadText(yaml, "test.yaml", loaded);
  return pilot::mergeWithLastGood(previous, std::move(loaded), previous ? previous->generation + 1 : 1);
}

inline pilot::ConfigSetPtr configFromPaths(const std::vector<std::string>& paths) {
  core::config::LoadResult loaded;
  for (const auto& p : paths) core::config::loadFile(p, loaded);
  INFO(core::config::formatErrors(loaded.errors));
  REQUIRE(loaded.errors.empty());
  return pilot::mergeWithLastGood(nullptr, std::move(loaded), 1);
}

inline std::shared_ptr<const pilot::MeshView> viewOf(pilot::ConfigSetPtr config,
                                                     std::vector<pilot::Workload> proxies = {}) {
  pilot::MeshSettings settings;
  auto index = std::make_shared<const pilot::ServiceIndex>(config->resources, proxies,
                                                           pilot::RegistryOptions{});
  return std::make_shared<const pilot::MeshView>(std::move(config), std::move(index), settings);
}

inline pilot::Workload podOf(const std::string& node, const std::string& ns, const std::string& sa,
                             pilot::Labels labels, const std::string& address,
                             std::uint32_t port = 9080) {
  pilot::Workload w;
  w.name = node;
  w.ns = ns;
  w.serviceAccount = sa;
  w.identity = "spiffe://cluster.local/ns/" + ns + "/sa/" + sa;
  w.labels = std::move(labels);
  w.address = address;
  w.ports = {port};
  w.sidecarPort = 15006;
  w.fromProxy = true;
  return w;
}

inline pilot::ProxyInfo proxyOf(const std::string& ns, pilot::Labels labels,
                                std::vector<std::uint32_t> ports = {9080}) {
  pilot::ProxyInfo p;
  p.node = "test." + ns;
  p.ns = ns;
  p.serviceAccount = "default";
  p.identity = "spiffe://cluster.local/ns/" + ns + "/sa/default";
  p.labels = std::move(labels);
  p.ports = std::move(ports);
  return p;
}

inline const core::model::Cluster* clusterNamed(const core::model::Snapshot& s, const std::string& name) {
  return s.findCluster(name);
}

inline const core::model::VirtualHost* vhostNamed(const core::model::Snapshot& s, const std::string& name) {
  for (const auto& t : s.routeTables) {
    for (const auto& vh : t.virtualHosts) {
      if (vh.name == name) return &vh;
    }
  }
  return nullptr;
}

}  // namespace mesh::test
