#include "pilot/debug/debug_pages.h"

namespace mesh::pilot {

using nlohmann::json;

std::string syncState(const ProxySyncStatus& s) {
  if (s.sent.empty()) return "NOT SENT";
  if (s.acked == s.sent) return "SYNCED";
  if (s.nacked == s.sent) return "NACKED";
  return "STALE";
}

json syncz(const Pusher& pusher, const std::string& pilotName) {
  json out = json::array();
  for (const auto& s : pusher.syncStatus()) {
    out.push_back({{"proxy", s.node},
                   {"identity", s.identity},
                   {"cluster_id", "Kubernetes"},
                   {"istiod", pilotName},
                   {"sent", s.sent},
                   {"acked", s.acked},
                   {"nacked", s.nacked},
                   {"nack_reason", s.nackReason},
                   {"state", syncState(s)},
                   {"delta", s.delta},
                   {"pushes", s.pushes},
                   {"pending", s.pending}});
  }
  return out;
}

// A Secret's keys are shown, never their values (private keys).
json redacted(const core::config::Resource& r) {
  if (r.kind != "Secret") return r.spec;
  json out = r.spec;
  for (const char* field : {"data", "stringData"}) {
    if (!out.contains(field) || !out[field].is_object()) continue;
    for (auto& [key, value] : out[field].items()) value = "[redacted]";
  }
  return out;
}

json configz(const ConfigSet& config) {
  json resources = json::array();
  for (const auto& r : config.resources) {
    resources.push_back({{"apiVersion", r.apiVersion}, {"kind", r.kind}, {"namespace", r.ns},
                         {"name", r.name}, {"file", r.file}, {"line", r.line},
                         {"spec", redacted(r)}});
  }
  json errors = json::array();
  for (const auto& e : config.errors) errors.push_back(e.toString());
  json skipped = json::array();
  for (const auto& n : config.skipped) skipped.push_back(n.toString());
  return {{"generation", config.generation}, {"resources", resources}, {"errors", errors},
          {"skipped", skipped}, {"keptFromBefore", config.keptFromBefore}};
}

json registryz(const MeshView& view) {
  json services = json::array();
  for (const auto& s : view.services().services()) {
    json ports = json::array();
    for (const auto& p : s.ports) {
      json endpoints = json::array();
      for (const auto& e : view.services().endpoints(s, p)) {
        endpoints.push_back({{"address", e.address}, {"port", e.port}, {"identity", e.identity},
                             {"labels", e.labels}});
      }
      ports.push_back({{"port", p.number}, {"name", p.name}, {"protocol", p.protocol},
                       {"endpoints", endpoints}});
    }
    services.push_back({{"host", s.host}, {"namespace", s.ns}, {"kind", s.kind},
                        {"ports", ports}});
  }
  return services;
}

void installDebugPages(core::AdminServer& admin, const Pusher& pusher,
                       const core::metrics::Registry& registry, std::string pilotName) {
  auto asJson = [](const json& j) {
    return core::AdminResponse{200, j.dump(2) + "\n", "application/json"};
  };
  admin.route("/metrics", [&registry](const core::AdminRequest&) {
    return core::AdminResponse{200, registry.render(),
                               std::string(core::metrics::Registry::kContentType)};
  });
  admin.route("/debug/syncz", [&pusher, asJson, pilotName](const core::AdminRequest&) {
    return asJson(syncz(pusher, pilotName));
  });
  admin.route("/debug/configz", [&pusher, asJson](const core::AdminRequest&) {
    auto view = pusher.view();
    if (!view) return core::AdminResponse{503, "no configuration loaded yet\n"};
    return asJson(configz(view->config()));
  });
  admin.route("/debug/registryz", [&pusher, asJson](const core::AdminRequest&) {
    auto view = pusher.view();
    if (!view) return core::AdminResponse{503, "no configuration loaded yet\n"};
    return asJson(registryz(*view));
  });
  admin.route("/ready", [&pusher](const core::AdminRequest&) {
    return pusher.view() ? core::AdminResponse{200, "ok\n"}
                         : core::AdminResponse{503, "no configuration loaded yet\n"};
  });
}

}  // namespace mesh::pilot
