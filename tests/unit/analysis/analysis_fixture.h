// Helpers for the analyzer tests: run the whole analysis over YAML text written in the test
// and look at what came out, by code and by the resource it names.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "pilot/analysis/analysis.h"

namespace mesh::pilot::analysis::test {

inline std::vector<Message> analyzeYaml(const std::string& yaml, Options options = {}) {
  Outcome outcome = analyze({{"test.yaml", yaml}}, options);
  return outcome.shown;
}

// Messages with `code`, optionally only those whose origin contains `origin`.
inline std::vector<Message> withCode(const std::vector<Message>& ms, const std::string& code,
                                     const std::string& origin = "") {
  std::vector<Message> out;
  for (const Message& m : ms) {
    if (m.type->code == code && m.origin.friendlyName().find(origin) != std::string::npos) {
      out.push_back(m);
    }
  }
  return out;
}

inline std::string dump(const std::vector<Message>& ms) {
  std::string out;
  for (const Message& m : ms) out += m.toLogLine() + "\n";
  return out;
}

// A small Bookinfo: Services and Deployments for productpage, details, ratings and reviews
// v1, v2, v3 in namespace default, with the DestinationRule subsets Istio's samples define.
inline const std::string& bookinfo() {
  static const std::string text = [] {
    std::string out;
    auto service = [&](const std::string& app) {
      out += "apiVersion: v1\nkind: Service\nmetadata:\n  name: " + app +
             "\n  labels:\n    app: " + app + "\nspec:\n  ports:\n  - port: 9080\n    name: http\n"
             "  selector:\n    app: " + app + "\n---\n";
    };
    auto deployment = [&](const std::string& app, const std::string& version) {
      out += "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: " + app + "-" + version +
             "\nspec:\n  selector:\n    matchLabels:\n      app: " + app + "\n  template:\n"
             "    metadata:\n      labels:\n        app: " + app + "\n        version: " +
             version + "\n    spec:\n      containers:\n      - name: " + app +
             "\n        image: docker.io/istio/examples-bookinfo-" + app + "-" + version +
             ":1.18.0\n        ports:\n        - containerPort: 9080\n---\n";
    };
    for (const char* app : {"productpage", "details", "ratings", "reviews"}) service(app);
    deployment("productpage", "v1");
    deployment("details", "v1");
    deployment("ratings", "v1");
    deployment("reviews", "v1");
    deployment("reviews", "v2");
    deployment("reviews", "v3");
    auto rule = [&](const std::string& host, const std::vector<std::string>& versions) {
      out += "apiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\nmetadata:\n"
             "  name: " + host + "\nspec:\n  host: " + host + "\n  subsets:\n";
      for (const std::string& v : versions) {
        out += "  - name: " + v + "\n    labels:\n      version: " + v + "\n";
      }
      out += "---\n";
    };
    rule("productpage", {"v1"});
    rule("details", {"v1"});
    rule("ratings", {"v1"});
    rule("reviews", {"v1", "v2", "v3"});
    return out;
  }();
  return text;
}

}  // namespace mesh::pilot::analysis::test
