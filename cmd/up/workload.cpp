#include "cmd/up/workload.h"

#include <nlohmann/json.hpp>

namespace mesh::cmd::up {

namespace {

using nlohmann::json;

const json& child(const json& j, const char* key) {
  static const json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

// Appends the strings of a list field; false when it is not a list of strings.
bool appendStrings(const json& list, std::vector<std::string>& out) {
  if (list.is_null()) return true;
  if (!list.is_array()) return false;
  for (const auto& item : list) {
    if (item.is_string()) {
      out.push_back(item.get<std::string>());
    } else if (item.is_number()) {
      out.push_back(item.dump());  // YAML `- 9080` unquoted
    } else {
      return false;
    }
  }
  return true;
}

std::string checkEnv(const json& list, std::vector<EnvVar>& out) {
  if (list.is_null()) return {};
  if (!list.is_array()) return "env must be a list";
  for (const auto& item : list) {
    EnvVar var;
    const json& name = child(item, "name");
    if (!name.is_string() || name.get<std::string>().empty()) return "env[].name is required";
    var.name = name.get<std::string>();
    const json& value = child(item, "value");
    if (value.is_string()) {
      var.value = value.get<std::string>();
    } else if (value.is_number() || value.is_boolean()) {
      var.value = value.dump();
    }
    const json& field = child(child(child(item, "valueFrom"), "fieldRef"), "fieldPath");
    if (field.is_string()) var.fieldPath = field.get<std::string>();
    out.push_back(std::move(var));
  }
  return {};
}

std::string readContainer(const json& container, Workload& w) {
  if (!appendStrings(child(container, "command"), w.command) ||
      !appendStrings(child(container, "args"), w.command)) {
    return "command and args must be lists of strings";
  }
  if (w.command.empty()) {
    return "its container has no command: mesh up runs commands (such as `mesh echo ...`), not "
           "images";
  }
  if (std::string why = checkEnv(child(container, "env"), w.env); !why.empty()) return why;
  const json& ports = child(container, "ports");
  if (ports.is_array()) {
    for (const auto& p : ports) {
      const json& number = child(p, "containerPort");
      if (!number.is_number_integer() || number.get<long long>() < 1 ||
          number.get<long long>() > 65535) {
        return "ports[].containerPort must be a port number";
      }
      w.ports.push_back(number.get<std::uint32_t>());
    }
  }
  return {};
}

std::string readDeployment(const core::config::Resource& r, Workload& w) {
  w.name = r.name;
  w.ns = r.ns;
  w.source = r.file + ":" + std::to_string(r.line);
  const json& replicas = child(r.spec, "replicas");
  if (!replicas.is_null()) {
    if (!replicas.is_number_integer() || replicas.get<long long>() < 0 ||
        replicas.get<long long>() > 100) {
      return "spec.replicas must be a number from 0 to 100";
    }
    w.replicas = replicas.get<int>();
  }
  const json& pod = child(r.spec, "template");
  const json& labels = child(child(pod, "metadata"), "labels");
  if (labels.is_object()) {
    for (const auto& [k, v] : labels.items()) {
      if (v.is_string()) w.labels[k] = v.get<std::string>();
    }
  }
  const json& podSpec = child(pod, "spec");
  for (const char* key : {"serviceAccountName", "serviceAccount"}) {
    const json& sa = child(podSpec, key);
    if (sa.is_string() && !sa.get<std::string>().empty()) {
      w.serviceAccount = sa.get<std::string>();
      break;
    }
  }
  const json& containers = child(podSpec, "containers");
  if (!containers.is_array() || containers.empty()) return "spec.template.spec.containers is empty";
  if (containers.size() > 1) return "it has several containers; mesh up runs pods of one container";
  return readContainer(containers[0], w);
}

}  // namespace

std::string Workload::podFingerprint() const {
  json env = json::array();
  for (const auto& e : this->env) env.push_back({e.name, e.value, e.fieldPath});
  return json{{"labels", labels},
              {"sa", serviceAccount},
              {"command", command},
              {"env", env},
              {"ports", ports}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

WorkloadSet extractWorkloads(const std::vector<core::config::Resource>& resources) {
  WorkloadSet out;
  std::map<std::string, std::size_t> seen;
  for (const auto& r : resources) {
    if (r.kind != "Deployment" || r.group() != "apps") continue;
    Workload w;
    if (std::string why = readDeployment(r, w); !why.empty()) {
      out.errors.push_back(r.file + ":" + std::to_string(r.line) + ": Deployment " + r.ns + "/" +
                           r.name + ": " + why);
      out.brokenFiles.insert(r.file);
      continue;
    }
    // A later definition of the same Deployment replaces the earlier one, as kubectl apply does.
    if (auto it = seen.find(w.key()); it != seen.end()) {
      out.workloads[it->second] = std::move(w);
      continue;
    }
    seen[w.key()] = out.workloads.size();
    out.workloads.push_back(std::move(w));
  }
  return out;
}

}  // namespace mesh::cmd::up
