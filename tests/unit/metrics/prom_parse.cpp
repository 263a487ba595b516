// Runs Python's prometheus_client parser over an exposition (see prom_parse.h).
#include "tests/unit/metrics/prom_parse.h"

#include <catch2/catch.hpp>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace mesh::test {
namespace {

// Prints each family and sample with label values and help hex-encoded, so nothing the
// values contain can confuse the line-based reading below.
constexpr const char* kScript = R"PY(
import sys
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1], encoding='utf-8').read()
try:
    families = list(text_string_to_metric_families(text))
except Exception as e:
    print('error', repr(e).encode('utf-8').hex())
    sys.exit(0)
for f in families:
    print('family', f.name, f.type, f.documentation.encode('utf-8').hex())
    for s in f.samples:
        labels = ','.join(k + '=' + v.encode('utf-8').hex() for k, v in sorted(s.labels.items()))
        print('sample', s.name, labels or '-', repr(float(s.value)))
)PY";

std::string unhex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return out;
}

std::string tempPath(const char* name) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir && *dir ? dir : "/tmp") + "/mesh_metrics_" +
         std::to_string(::getpid()) + "_" + name;
}

const char* python() {
  // Debian's interpreter is the one python3-prometheus-client installs into; a python3 found
  // first on PATH (pyenv, venv) may not see it.
  return ::access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

}  // namespace

ParsedExposition parseWithPrometheusClient(const std::string& exposition) {
  std::string input = tempPath("exposition.txt");
  std::string script = tempPath("parse.py");
  std::ofstream(input, std::ios::binary) << exposition;
  std::ofstream(script) << kScript;
  ParsedExposition parsed;
  std::string command = std::string(python()) + " " + script + " " + input;
  std::FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) output.append(buf, n);
  int rc = ::pclose(pipe);
  std::remove(input.c_str());
  std::remove(script.c_str());
  REQUIRE(rc == 0);  // python3 or prometheus_client missing: scripts/install-deps installs them

  std::istringstream lines(output);
  std::string what;
  while (lines >> what) {
    if (what == "error") {
      std::string hex;
      lines >> hex;
      parsed.error = unhex(hex);
      return parsed;
    }
    std::string name;
    lines >> name;
    if (what == "family") {
      std::string type, help;
      lines >> type >> help;
      parsed.families[name] = type + "|" + unhex(help);
    } else {
      std::string labels, value;
      lines >> labels >> value;
      std::string key = name + "{";
      if (labels != "-") {
        std::istringstream pairs(labels);
        std::string pair;
        bool first = true;
        while (std::getline(pairs, pair, ',')) {
          auto eq = pair.find('=');
          if (!first) key += ',';
          key.append(pair, 0, eq);
          key += "=\"";
          key += unhex(pair.substr(eq + 1));
          key += '"';
          first = false;
        }
      }
      key += "}";
      parsed.samples[key] = std::strtod(value.c_str(), nullptr);
    }
  }
  parsed.ok = true;
  return parsed;
}

}  // namespace mesh::test
