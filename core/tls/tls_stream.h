// TlsStream: TLS over another Stream (a TcpStream from core/loop), itself a Stream, so HTTP and
// the control protocol run over TLS or plain TCP alike. Reads deliver plaintext to a
// StreamSink; writes take plaintext and complete when the ciphertext reached the kernel.
//
//   auto tls = TlsStream::connect(loop, address, clientContext, {.serverName = "ca"},
//                                 [&](Status handshake) { ... });
//   listener.listen(addr, [&](std::unique_ptr<TcpStream> tcp) {
//     auto tls = TlsStream::server(std::move(tcp), *serverContext);
//     (*tls)->handshake([...](Status s) { ... (*tls)->peerId() ... });
//   });
//
// Writes, reads and shutdown may be issued before the handshake completes: writes are queued,
// reads start delivering after it. Plaintext that arrives while nobody reads is buffered up to
// 256 KiB, then the transport stops reading until startReading(), which delivers what was
// buffered from inside the call. Start reading from the handshake callback to avoid that.
//
// Same rules as Stream (core/loop/stream.h): no callback after close() or destruction; a call
// that fails never fires its callback; the stream may be destroyed from its own callbacks.
// A handshake has no timeout of its own: the owner closes a stream that takes too long.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/base/status.h"
#include "core/loop/address.h"
#include "core/loop/loop.h"
#include "core/loop/stream.h"
#include "core/tls/context.h"
#include "core/tls/session.h"

namespace mesh::core {

class TlsStream final : public Stream, private StreamSink {
 public:
  static constexpr std::size_t kMaxBufferedPlaintext = 256 * 1024;

  // Takes a connected transport and a session from a TlsContext. Call handshake() next.
  TlsStream(std::unique_ptr<Stream> transport, std::unique_ptr<TlsSession> session);
  ~TlsStream() override;
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  // A server session over an accepted connection, or a client session over a connected one.
  static Result<std::unique_ptr<TlsStream>> server(std::unique_ptr<Stream> transport,
                                                   TlsContext& context);
  static Result<std::unique_ptr<TlsStream>> client(std::unique_ptr<Stream> transport,
                                                   TlsContext& context,
                                                   const TlsSessionOptions& options = {});
  // A client over a new TCP connection to `peer`: connects, then runs the handshake; `done`
  // gets ok when the session is established, or why the connection or handshake failed.
  static Result<std::unique_ptr<TlsStream>> connect(Loop& loop, const SocketAddress& peer,
                                                    TlsContext& context,
                                                    const TlsSessionOptions& options,
                                                    DoneCallback done);

  // Starts the handshake (and reading the transport). `done` runs once: ok when this side
  // completed the handshake, or the failure (an alert is sent to the peer first). With TLS
  // 1.3 a client completes before the server has checked the client's certificate: a refusal
  // then arrives as a read error.
  Status handshake(DoneCallback done);
  bool established() const { return session_->handshakeDone(); }

  // Stream.
  Status startReading(StreamSink& sink) override;
  void stopReading() override;
  Status write(std::span<const ByteView> chunks, DoneCallback done) override;
  Status write(std::string data, DoneCallback done) override;
  Status writeCopy(std::span<const ByteView> chunks, DoneCallback done) override;
  std::size_t writeQueueSize() const override;
  // Sends close_notify after the queued writes, then half-closes the transport.
  Status shutdown(DoneCallback done) override;
  void close() override;
  bool isOpen() const override { return transport_ && transport_->isOpen(); }

  // After the handshake.
  std::optional<SpiffeId> peerId() const { return session_->peerId(); }
  std::optional<Certificate> peerCertificate() const { return session_->peerCertificate(); }
  std::string alpn() const { return session_->alpn(); }
  std::string serverName() const { return session_->serverName(); }
  const TlsSession& session() const { return *session_; }
  Stream& transport() { return *transport_; }

 private:
  struct PendingWrite {
    std::string plaintext;
    DoneCallback done;
  };
  // StreamSink, for the transport.
  void onData(ByteView data) override;
  void onEof() override;
  void onError(const Status& status) override;

  // Writes the session's output to the transport; `done` when it is written.
  Status flushOutput(DoneCallback done = nullptr);
  // Each returns false when `this` was destroyed by the callout.
  bool afterReceive(const Status& status, std::string& plaintext);
  bool reportHandshake(const Status& status);
  bool deliver();
  void failRead(const Status& status);

  std::unique_ptr<Stream> transport_;
  std::unique_ptr<TlsSession> session_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  DoneCallback handshakeDone_;
  bool handshakeStarted_ = false;
  bool handshakeReported_ = false;
  std::vector<PendingWrite> pendingWrites_;  // until the handshake completes
  std::size_t pendingBytes_ = 0;
  StreamSink* sink_ = nullptr;
  std::string inbox_;        // plaintext not yet delivered
  bool eofPending_ = false;  // deliver onEof after inbox_
  Status errorPending_;      // deliver onError after inbox_
  bool finished_ = false;    // onEof or onError delivered
  bool transportReading_ = false;
  bool shutDown_ = false;
  DoneCallback shutdownDone_;  // shutdown() before the handshake completed
};

}  // namespace mesh::core
