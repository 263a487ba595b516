// PodNetwork: the network of `mesh up --netns`, pods the way a node has them. A bridge in this
// (the host's) namespace with the first address of a free /24, and for every pod a network
// namespace with one end of a veth pair as its eth0, the next address of the /24 and a
// default route through the bridge. Pilot and the CA listen on the bridge's address; a pod's
// files under /etc/netns/<ns>/ (hosts, resolv.conf) are what `ip netns exec` shows its
// programs as /etc/hosts and /etc/resolv.conf. Service addresses come from the /24 after the
// pods' one, which no interface has: a pod's connections to them are captured by its iptables
// rules before they are routed.
//
// Names start with a per-run tag, "mu<pid>" (the bridge "mu<pid>", host ends of veth pairs
// "mu<pid>v<n>", namespaces "mu<pid>-<n>-<pod>"), so runs side by side do not meet, and what
// a run killed with SIGKILL left behind is recognised (its pid is gone) and removed by the
// next one, with the pods' processes still running in it. The object owns everything it
// made; teardown() (also in the destructor) removes it.
//
// Set-up commands (`ip`, `iptables`) run synchronously: each takes milliseconds, and a pod is
// not started before its network is there.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/base/status.h"

namespace mesh::cmd::up {

// The uid and gid sidecars run as; `mesh proxy iptables` leaves their traffic alone.
constexpr std::uint32_t kProxyUid = 1337;

struct PodNetns {
  std::string name;      // the network namespace, under /run/netns
  std::string address;   // eth0's
  std::string hostLink;  // the veth end on the bridge
};

class PodNetwork {
 public:
  // Needs root and the `ip`, `iptables` and `setpriv` programs; says plainly what is missing.
  static core::Result<std::unique_ptr<PodNetwork>> create();
  ~PodNetwork();
  PodNetwork(const PodNetwork&) = delete;
  PodNetwork& operator=(const PodNetwork&) = delete;

  const std::string& hostAddress() const { return hostAddress_; }
  const std::string& bridge() const { return bridge_; }
  const std::string& tag() const { return tag_; }

  // A namespace for the pod, its link and address, `resolv` as its /etc/resolv.conf; its
  // /etc/hosts, which names the pod's own address, is written next with updateHosts().
  core::Result<PodNetns> addPod(const std::string& podName, const std::string& resolv);
  // Writes a pod's /etc/hosts in place: the file its running programs see is the same inode.
  void updateHosts(const PodNetns& pod, const std::string& hosts);
  void removePod(const PodNetns& pod);

  // The next free service address.
  std::string serviceAddress();

  // argv that runs `argv` in the pod (as kProxyUid when `asProxy`).
  std::vector<std::string> inPod(const PodNetns& pod, bool asProxy,
                                 const std::vector<std::string>& argv) const;
  // Runs argv in the pod and waits for it; its output in the error.
  core::Status runInPod(const PodNetns& pod, const std::vector<std::string>& argv) const;
  // Whether something accepts connections on 127.0.0.1:port inside the pod.
  bool acceptsLocally(const PodNetns& pod, std::uint16_t port) const;

  void teardown();

 private:
  PodNetwork() = default;
  core::Status setUp();

  std::string tag_, bridge_, hostAddress_;
  std::string ip_, setpriv_, iptables_;
  std::uint32_t podNet_ = 0;  // the pods' /24, host order; services are in the next one
  std::uint32_t nextPod_ = 2, nextService_ = 1;
  int podCount_ = 0;
  std::vector<std::string> forwardRule_;  // the FORWARD rule letting bridged frames through
  bool etcNetnsWasThere_ = true;
  std::map<std::string, PodNetns> pods_;  // by namespace name
};

}  // namespace mesh::cmd::up
