#include "core/identity/ca_client.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "core/base/log.h"
#include "core/identity/base64url.h"
#include "core/proto/connection.h"
#include "core/tls/context.h"
#include "core/tls/csr.h"
#include "core/tls/tls_stream.h"

namespace mesh::core {
namespace {

using nlohmann::json;

Code codeFromName(const std::string& name) {
  for (Code c : {Code::invalid, Code::not_found, Code::denied, Code::unavailable, Code::timeout,
                 Code::too_large, Code::internal})
    if (name == codeName(c)) return c;
  return Code::internal;
}

Clock::TimePoint now(const Clock* clock) { return (clock ? *clock : Clock::real()).now(); }

}  // namespace

std::string caSpiffeId(std::string_view trustDomain) {
  return "spiffe://" + std::string(trustDomain) + "/ns/mesh-system/sa/mesh-ca";
}

Result<SpiffeId> peekTokenIdentity(std::string_view token) {
  size_t a = token.find('.');
  size_t b = a == std::string_view::npos ? a : token.find('.', a + 1);
  if (b == std::string_view::npos) return error(Code::invalid, "not a bootstrap token");
  auto payload = base64UrlDecode(token.substr(a + 1, b - a - 1));
  if (!payload) return error(Code::invalid, "bootstrap token payload is not base64url");
  json claims = json::parse(*payload, nullptr, false);
  if (!claims.is_object() || !claims.contains("sub") || !claims["sub"].is_string())
    return error(Code::invalid, "bootstrap token names no identity");
  return SpiffeId::parse(claims["sub"].get<std::string>());
}

Status writeIdentityFiles(const std::string& dir, const IssuedIdentity& identity) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return error(Code::internal, "mkdir " + dir + ": " + std::strerror(errno));
  if (Status s = writePrivateKeyFile(dir + "/key.pem", identity.key); !s) return s;
  if (Status s = writeCertificatesFile(dir + "/cert-chain.pem", identity.chain); !s) return s;
  return writeCertificatesFile(dir + "/root-cert.pem", identity.trustBundle);
}

// Frames from the CA. The first answer ends the exchange.
class CsrExchange::Handler final : public FramedConnection::Handler {
 public:
  explicit Handler(CsrExchange& owner) : owner_(owner) {}
  void onMessage(FramedConnection&, json&& message) override {
    if (message["type"] == "pong") return;
    owner_.finish(owner_.accept(message));
  }
  void onClosed(FramedConnection&, const Status& why) override {
    owner_.finish(error(why.ok() ? Code::unavailable : why.code(),
                        "CA closed the connection" + (why.ok() ? "" : ": " + why.message())));
  }

 private:
  CsrExchange& owner_;
};

CsrExchange::CsrExchange(Loop& loop, CsrRequest request, Callback done)
    : loop_(loop), request_(std::move(request)), done_(std::move(done)), timer_(loop) {}

CsrExchange::~CsrExchange() {
  if (pending_) deferredDelete(loop_, std::move(pending_));
  if (connection_) deferredDelete(loop_, std::move(connection_));
}

Result<std::unique_ptr<CsrExchange>> CsrExchange::start(Loop& loop, CsrRequest request,
                                                        Callback done) {
  std::unique_ptr<CsrExchange> exchange(new CsrExchange(loop, std::move(request), std::move(done)));
  if (Status s = exchange->begin(); !s) return s;
  return exchange;
}

Status CsrExchange::begin() {
  auto key = PrivateKey::generateP256();
  if (!key) return key.status();
  key_ = std::move(*key);
  auto csr = createCsrPem(*key_, request_.id);
  if (!csr) return csr.status();
  csrPem_ = std::move(*csr);
  auto caId = SpiffeId::parse(caSpiffeId(request_.id.trustDomain()));
  if (!caId) return caId.status();

  TlsOptions options;
  options.role = TlsRole::client;
  options.trustBundle = request_.caRoots;
  options.peer.allowIds = {*caId};
  options.sessionResumption = false;
  options.clock = request_.clock;
  if (request_.currentKey) {
    options.chain = request_.currentChain;
    options.key = *request_.currentKey;
  }
  auto context = TlsContext::create(std::move(options));
  if (!context) return context.status();
  tls_ = std::move(*context);

  handler_ = std::make_unique<Handler>(*this);
  // No callback of the stream runs once it is destroyed, and this object owns it.
  auto connected = TlsStream::connect(loop_, request_.ca, *tls_, {}, [this](Status s) {
    if (!s) return finish(error(s.code(), "CA " + request_.ca.toString() + ": " + s.message()));
    connection_ = std::make_unique<FramedConnection>(std::move(pending_), *handler_);
    if (Status started = connection_->start(); !started) return finish(started);
    json csr = {{"type", "csr"}, {"csr", csrPem_}};
    if (!request_.token.empty()) csr["token"] = request_.token;
    if (request_.ttl.count() > 0) csr["ttl_seconds"] = request_.ttl.count();
    if (Status sent = connection_->send(csr); !sent) finish(sent);
  });
  if (!connected) return connected.status();
  pending_ = std::move(*connected);
  timer_.start(request_.timeout, [this] {
    finish(error(Code::timeout, "no answer from CA " + request_.ca.toString()));
  });
  return {};
}

Result<IssuedIdentity> CsrExchange::accept(const json& answer) const {
  if (answer["type"] == "error") {
    std::string code = answer.value("code", "internal");
    return error(codeFromName(code), "CA refused: " + answer.value("reason", std::string("?")));
  }
  if (answer["type"] != "certificate" || !answer.contains("chain") ||
      !answer["chain"].is_string() || !answer.contains("trust_bundle") ||
      !answer["trust_bundle"].is_string())
    return error(Code::invalid, "unexpected answer from the CA");
  auto chain = parseCertificatesPem(answer["chain"].get<std::string>());
  if (!chain) return chain.status();
  auto bundle = parseCertificatesPem(answer["trust_bundle"].get<std::string>());
  if (!bundle) return bundle.status();
  const Certificate& leaf = chain->front();
  if (!leaf.matches(*key_))
    return error(Code::invalid, "CA answered with a certificate for another key");
  auto id = leaf.spiffeId();
  if (!id || !(*id == request_.id))
    return error(Code::invalid, "CA answered with a certificate for another identity");
  if (Status s = verifyCertificateChain(*chain, *bundle, now(request_.clock)); !s)
    return error(Code::invalid, "certificate from the CA does not verify: " + s.message());
  return IssuedIdentity{*key_, *chain, *bundle, *id, leaf.notBefore(), leaf.notAfter()};
}

void CsrExchange::finish(Result<IssuedIdentity> result) {
  if (!done_) return;
  timer_.stop();
  if (pending_) deferredDelete(loop_, std::move(pending_));
  if (connection_) deferredDelete(loop_, std::move(connection_));
  Callback done = std::move(done_);
  done_ = nullptr;
  done(std::move(result));  // may destroy this
}

Result<IssuedIdentity> requestCertificateBlocking(CsrRequest request) {
  Loop loop;
  std::optional<Result<IssuedIdentity>> result;
  auto exchange = CsrExchange::start(
      loop, std::move(request), [&](Result<IssuedIdentity> r) { result.emplace(std::move(r)); });
  if (!exchange) return exchange.status();
  while (!result && loop.runOnce()) {
  }
  exchange->reset();
  loop.run();
  if (!result) return error(Code::internal, "the request ended without an answer");
  return std::move(*result);
}

}  // namespace mesh::core
