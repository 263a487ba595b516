// Host name resolution without glibc's NSS: a static binary cannot load NSS modules, so
// getaddrinfo() fails in a container or chroot that lacks them. c-ares reads /etc/hosts and
// /etc/resolv.conf itself and speaks DNS directly.
#pragma once

#include <string>
#include <vector>

#include "core/base/status.h"

namespace mesh::core {

// Resolves `name` to numeric addresses (IPv4 first, then IPv6), blocking the caller.
// For start-up and CLI use; numeric input is returned unchanged.
Result<std::vector<std::string>> resolveBlocking(const std::string& name, int timeoutMs = 5000);

}  // namespace mesh::core
