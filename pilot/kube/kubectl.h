// Running kubectl for `mesh install` and `mesh uninstall`: finding it in PATH and feeding it
// the rendered manifests. kubectl does the talking to the cluster (credentials, contexts,
// server-side apply); mesh only hands it documents.
#pragma once

#include <string>
#include <vector>

#include "core/base/status.h"

namespace mesh::pilot::kube {

// The full path of `program` in `pathEnv` (a PATH value), or empty when it is not there.
// A program name with a '/' is returned as it is when executable.
std::string findExecutable(const std::string& program, const std::string& pathEnv);

// Runs `kubectl ARGS -f FILE` where FILE holds `manifests`; kubectl's output goes to ours.
// Returns kubectl's exit status (0 on success), or an error when it could not be started.
core::Result<int> runKubectl(const std::string& kubectl, const std::vector<std::string>& args,
                             const std::string& manifests);

}  // namespace mesh::pilot::kube
