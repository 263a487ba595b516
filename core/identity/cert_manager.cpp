#include "core/identity/cert_manager.h"

#include <algorithm>

#include "core/base/log.h"

namespace mesh::core {

CertificateManager::CertificateManager(Loop& loop, const Clock& clock,
                                       CertificateManagerOptions options)
    : loop_(loop),
      clock_(clock),
      options_(std::move(options)),
      backoff_(options_.initialBackoff, options_.maxBackoff, options_.seed),
      random_(options_.seed),
      timer_(loop) {}

CertificateManager::~CertificateManager() {
  if (exchange_) deferredDelete(loop_, std::move(exchange_));
}

void CertificateManager::start() {
  if (current_ || exchange_) return;
  request();
}

Status CertificateManager::attach(std::shared_ptr<TlsContext> context) {
  if (current_) {
    if (Status s = context->update(current_->chain, current_->key, current_->trustBundle); !s)
      return s;
  }
  contexts_.push_back(std::move(context));
  return {};
}

void CertificateManager::request() {
  due_ = {};
  CsrRequest req{.ca = options_.ca,
                 .caRoots = options_.caRoots,
                 .id = options_.id,
                 .ttl = options_.ttl,
                 .timeout = options_.requestTimeout,
                 .clock = &clock_};
  // Still valid: renew with the certificate itself (the token may be long expired). The CA's
  // serving certificate may already come from a root that only the new bundle holds.
  if (current_ && current_->notAfter > clock_.now()) {
    req.currentChain = current_->chain;
    req.currentKey = current_->key;
    for (const auto& root : current_->trustBundle) req.caRoots.push_back(root);
  } else {
    req.token = options_.token;
  }
  auto exchange = CsrExchange::start(loop_, std::move(req),
                                     [this](Result<IssuedIdentity> r) { onAnswer(std::move(r)); });
  if (!exchange) return onAnswer(exchange.status());
  exchange_ = std::move(*exchange);
}

void CertificateManager::onAnswer(Result<IssuedIdentity> result) {
  if (exchange_) deferredDelete(loop_, std::move(exchange_));  // we are inside its callback
  if (!result) {
    ++failures_;
    lastError_ = result.status();
    auto delay = backoff_.next();
    LOG_WARN("identity", options_.id.toString(), ": certificate request failed (",
             result.status().toString(), "); retrying in ", delay.count(), " ms",
             current_ ? ", serving on the current certificate" : "");
    scheduleAt(clock_.now() + delay);
    return;
  }
  backoff_.reset();
  install(std::move(*result));
}

void CertificateManager::install(IssuedIdentity identity) {
  for (auto& context : contexts_) {
    if (Status s = context->update(identity.chain, identity.key, identity.trustBundle); !s)
      LOG_ERROR("identity", "installing the new certificate: ", s.toString());
  }
  if (!options_.outDir.empty()) {
    if (Status s = writeIdentityFiles(options_.outDir, identity); !s)
      LOG_ERROR("identity", "writing ", options_.outDir, ": ", s.toString());
  }
  // The lifetime counts from when the certificate arrived, not from notBefore: CAs date
  // notBefore back to absorb clock skew (ca/signer.h), and counting from there would renew
  // early, or at once for certificates that live less than the backdating.
  Clock::TimePoint start = std::max(identity.notBefore, clock_.now());
  auto lifetime = identity.notAfter - start;
  std::uniform_real_distribution<double> spread(-options_.jitter, options_.jitter);
  double fraction = std::clamp(options_.renewAt + spread(random_), 0.05, 0.95);
  auto offset = std::chrono::duration_cast<Clock::TimePoint::duration>(lifetime * fraction);
  ++issued_;
  LOG_INFO("identity", "installed certificate for ", identity.id.toString(), " serial ",
           identity.chain.front().serialHex(), ", renewing in ",
           std::chrono::duration_cast<std::chrono::seconds>(start + offset - clock_.now()).count(),
           " s");
  Clock::TimePoint due = start + offset;
  current_ = std::move(identity);
  scheduleAt(due);
  if (listener_) listener_(*current_);
}

void CertificateManager::scheduleAt(Clock::TimePoint due) {
  due_ = due;
  onTick();
}

void CertificateManager::onTick() {
  if (exchange_ || due_ == Clock::TimePoint{}) return;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(due_ - clock_.now());
  if (left.count() <= 0) return request();
  timer_.start(std::min(left, options_.checkInterval), [this] { onTick(); });
}

}  // namespace mesh::core
