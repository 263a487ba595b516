// Parses an exposition with Python's prometheus_client (python3-prometheus-client), an
// independent reader of the format, and returns what it understood.
#pragma once

#include <map>
#include <string>

namespace mesh::test {

struct ParsedExposition {
  bool ok = false;
  std::string error;  // the parser's complaint when !ok
  // family name -> "type|documentation"
  std::map<std::string, std::string> families;
  // `sample{label="value",...}` with labels sorted and values printed raw (unescaped) -> value
  std::map<std::string, double> samples;
};

ParsedExposition parseWithPrometheusClient(const std::string& exposition);

}  // namespace mesh::test
