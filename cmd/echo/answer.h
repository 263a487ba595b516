// What `mesh echo` answers: who it is, what it was asked, who asked (the caller's SPIFFE id
// from the x-forwarded-client-cert header its sidecar sets) and the answers of the services it
// called, nested, so that one request through Bookinfo shows the whole chain. Pure functions:
// the server (echo_server.h) does the I/O.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cmd/echo/fetch.h"

namespace mesh::cmd::echo {

struct Identity {
  std::string service = "echo";
  std::string version = "v1";
  std::string pod;
  std::string ns;
};

struct IncomingRequest {
  std::string method;
  std::string host;
  std::string target;  // path and query as received
  std::string xfcc;    // x-forwarded-client-cert, "" when absent
  std::string requestId;
};

struct CallOutcome {
  std::string url;
  FetchResult result;
};

// Headers Istio asks applications to copy from the request they serve to the requests they
// make, so that traces join up and header-based routes (end-user: jason) match on every hop.
const std::vector<std::string_view>& propagatedHeaders();

// The URI of the last element of an x-forwarded-client-cert value (Envoy's format:
// `By=spiffe://...;Hash=...;URI=spiffe://...`, elements separated by commas, values maybe
// quoted). "" when there is none.
std::string peerIdentity(std::string_view xfcc);

// A failed call: no answer, or a 5xx answer.
bool callFailed(const FetchResult& result);

// The answer as JSON: service, version, pod, namespace, method, host, path, peer (null when
// the caller was not authenticated), request id, and `calls`, each with its url and status
// and the callee's own answer (as JSON when it is JSON, else its text) or the error.
nlohmann::json answerJson(const Identity& self, const IncomingRequest& request,
                          const std::vector<CallOutcome>& calls);

// The same answer for people: one line per service, calls indented under their caller.
std::string answerText(const nlohmann::json& answer);

// True when the query string asks for plain text (`format=text`).
bool wantsText(std::string_view target);

}  // namespace mesh::cmd::echo
