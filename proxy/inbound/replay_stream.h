// ReplayStream: a Stream over another that first delivers bytes already read from it. The
// inbound listener reads a connection's first bytes to tell TLS from plain text, then hands
// the connection to TLS or HTTP as if nothing had been read.
#pragma once

#include <memory>
#include <string>

#include "core/loop/stream.h"

namespace mesh::proxy {

class ReplayStream final : public core::Stream, private core::StreamSink {
 public:
  ReplayStream(std::unique_ptr<core::Stream> inner, std::string prefix)
      : inner_(std::move(inner)), prefix_(std::move(prefix)) {}
  ~ReplayStream() override { *alive_ = false; }

  core::Status startReading(core::StreamSink& sink) override;
  void stopReading() override;
  core::Status write(std::span<const core::ByteView> chunks, core::DoneCallback done) override {
    return inner_->write(chunks, std::move(done));
  }
  core::Status write(std::string data, core::DoneCallback done) override {
    return inner_->write(std::move(data), std::move(done));
  }
  core::Status writeCopy(std::span<const core::ByteView> chunks, core::DoneCallback done) override {
    return inner_->writeCopy(chunks, std::move(done));
  }
  std::size_t writeQueueSize() const override { return inner_->writeQueueSize(); }
  core::Status shutdown(core::DoneCallback done) override {
    return inner_->shutdown(std::move(done));
  }
  void close() override { inner_->close(); }
  bool isOpen() const override { return inner_->isOpen(); }

 private:
  void onData(core::ByteView data) override { sink_->onData(data); }
  void onEof() override { sink_->onEof(); }
  void onError(const core::Status& status) override { sink_->onError(status); }

  std::unique_ptr<core::Stream> inner_;
  std::string prefix_;
  core::StreamSink* sink_ = nullptr;
  bool reading_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace mesh::proxy
