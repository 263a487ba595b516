// Running iptables for `mesh proxy iptables`: read what is installed with
// `iptables-save -t nat`, then hand the whole change to one `iptables-restore --noflush`, which
// commits it atomically (a pod never sees half of the rules). The rules themselves are
// written by proxy/capture/iptables_rules.h.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"
#include "proxy/capture/iptables_rules.h"

namespace mesh::proxy::capture {

struct IptablesCommands {
  std::string save = "iptables-save";        // looked up in PATH
  std::string restore = "iptables-restore";
};

// Runs `argv` (argv[0] looked up in PATH) with `input` on its stdin; its stderr is ours.
// Returns what it wrote on stdout, or an error naming the program and its exit status.
core::Result<std::string> runProgram(const std::vector<std::string>& argv, std::string_view input);

// Installs the capture rules (replacing an earlier set); idempotent.
core::Status installCapture(const CaptureOptions& options, const IptablesCommands& commands = {});
// Removes them; nothing to remove is not an error.
core::Status removeCapture(const IptablesCommands& commands = {});

}  // namespace mesh::proxy::capture
