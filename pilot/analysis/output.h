// Rendering analysis messages the way istioctl prints them: `log` (one line each), `json`
// (a tab-indented list of objects with code, documentationUrl, level, message, origin,
// reference, keys in that order) and `yaml` (the same list).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pilot/analysis/message.h"

namespace mesh::pilot::analysis {

enum class Format { log, json, yaml };
bool parseFormat(std::string_view name, Format& out);

// `color` wraps the level in ANSI colours as istioctl does on a terminal (log format only).
std::string render(const std::vector<Message>& messages, Format format, bool color = false);

}  // namespace mesh::pilot::analysis
