// One connection's TLS engine, independent of any socket: ciphertext in, plaintext out, and
// the other way round. BoringSSL runs over two memory BIOs; the owner moves bytes between
// them and the network (TlsStream does this over a TcpStream; tests pump two sessions).
//
//   session->start();                        // client: queues the ClientHello
//   send(session->takeOutput());             // whenever hasOutput()
//   session->receive(bytesFromPeer, plain);  // runs the handshake, decrypts
//   session->send("GET / ...");              // queued until the handshake completes
//
// Not thread-safe: one session belongs to one loop thread.
#pragma once

#include "core/tls/boringssl.h"

#include <openssl/ssl.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/status.h"
#include "core/tls/context.h"
#include "core/tls/spiffe.h"
#include "core/tls/x509.h"

namespace mesh::core {

class TlsSession {
 public:
  enum class State {
    handshaking,
    established,
    closed,  // the peer sent close_notify, or the transport ended after the handshake
    failed,  // see failure()
  };

  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  TlsRole role() const;
  State state() const { return state_; }
  bool handshakeDone() const { return state_ == State::established || state_ == State::closed; }

  // Client: writes the ClientHello to the output. Server: nothing (it waits for the client).
  Status start();
  // Ciphertext from the network. Runs the handshake as far as it goes and appends any
  // plaintext to `plaintext`. An error is final: state() becomes failed, the output may hold
  // an alert worth sending, and every later call returns the same error. Errors read like
  // "denied: certificate verify failed: certificate has expired" or
  // "denied: peer sent alert: unknown ca".
  Status receive(std::string_view ciphertext, std::string& plaintext);
  // The transport reached end of stream. Before the handshake finished that is an error
  // (unavailable); after it, the session is closed (plaintext already received stays valid).
  Status receiveEof();
  // Encrypts `plaintext` into the output; before the handshake completes it is queued. Allowed
  // after the peer closed (half-close), not after close().
  Status send(std::string_view plaintext);
  // Queues close_notify. Further send() calls fail.
  void close();

  bool hasOutput() const;
  // Ciphertext (handshake, records, alerts) to put on the wire, oldest first.
  std::string takeOutput();
  // Memory the session's input and output buffers hold. Given back once drained, so an idle
  // connection holds nothing here whatever it carried before.
  std::size_t bufferCapacity() const;

  // The first error (ok while none).
  const Status& failure() const { return failure_; }
  // True when the peer's close_notify arrived.
  bool peerClosedCleanly() const { return peerCloseNotify_; }

  // After the handshake.
  std::optional<Certificate> peerCertificate() const;
  CertificateList peerChain() const;  // as the peer sent it, leaf first
  std::optional<SpiffeId> peerId() const { return peerId_; }
  std::string alpn() const;        // "" when none was negotiated
  std::string serverName() const;  // the SNI sent (client) or received (server); "" for none
  std::string version() const;     // "TLSv1.3"
  std::string cipher() const;      // "TLS_AES_128_GCM_SHA256"
  std::string group() const;       // "X25519"
  bool resumed() const;

  // For BoringSSL callbacks.
  static TlsSession* fromSsl(const SSL* ssl);
  const tls_internal::Settings& settings() const { return *settings_; }
  const PeerPolicy& policy() const { return policy_; }
  // Our own reason for refusing the handshake (verification, policy, server name): reported
  // instead of BoringSSL's generic one.
  void noteHandshakeFailure(std::string reason) { ownFailure_ = std::move(reason); }
  void notePeerId(SpiffeId id) { peerId_ = std::move(id); }
  const std::string& sessionKey() const { return sessionKey_; }

 private:
  friend class TlsContext;
  friend struct SessionBio;
  TlsSession(std::shared_ptr<tls_internal::Settings> settings, bssl::UniquePtr<SSL> ssl,
             PeerPolicy policy, std::string sessionKey);
  Status pump(std::string& plaintext);
  Status fail(int ret);
  Status failWith(Status status);
  Status flushPending();

  std::shared_ptr<tls_internal::Settings> settings_;
  bssl::UniquePtr<SSL> ssl_;
  BIO* in_ = nullptr;   // owned by ssl_; reads input_, then inputRest_
  BIO* out_ = nullptr;  // owned by ssl_; appends to output_
  // Ciphertext in: the bytes of the receive() call under way, read where they are, and what
  // an earlier call left unread (a record cut by a read boundary), consumed from restAt_.
  std::string_view input_;
  std::string inputRest_;
  std::size_t restAt_ = 0;
  bool inputEnded_ = false;  // receiveEof(): reading past the input is the end, not "wait"
  std::string output_;       // ciphertext out, until takeOutput()
  PeerPolicy policy_;
  std::string sessionKey_;
  State state_ = State::handshaking;
  Status failure_;
  std::string pending_;  // plaintext sent before the handshake completed
  bool closing_ = false;
  bool peerCloseNotify_ = false;
  std::string ownFailure_;  // see noteHandshakeFailure()
  std::optional<SpiffeId> peerId_;
};

}  // namespace mesh::core
