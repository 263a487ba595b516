#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <thread>

#include "core/loop/async.h"
#include "core/loop/leak_check.h"
#include "core/loop/loop.h"
#include "core/loop/tcp.h"
#include "core/loop/timer.h"
#include "tests/unit/loop/loop_fixture.h"

using namespace mesh::core;
using namespace std::chrono_literals;
using mesh::test::LoopFixture;

namespace {

struct Tracked {
  explicit Tracked(int& deletions) : deletions_(deletions) {}
  ~Tracked() { ++deletions_; }
  int& deletions_;
};

}  // namespace

TEST_CASE_METHOD(LoopFixture, "deferredDelete deletes on the next loop turn", "[loop]") {
  int deletions = 0;
  deferredDelete(loop, std::make_unique<Tracked>(deletions));
  deferredDelete(loop, std::make_unique<Tracked>(deletions));
  deferredDelete(loop, std::unique_ptr<Tracked>());  // ignored
  CHECK(deletions == 0);
  loop.runNoWait();
  CHECK(deletions == 2);
}

TEST_CASE_METHOD(LoopFixture, "An object can deferredDelete itself from its own callback",
                 "[loop]") {
  // A connection-like object that owns a timer and asks to be deleted when it fires.
  struct Session {
    Session(Loop& loop, bool& gone) : loop(loop), timer(loop), gone(gone) {}
    ~Session() { gone = true; }
    Loop& loop;
    Timer timer;
    bool& gone;
    std::unique_ptr<Session> self;
  };
  bool gone = false;
  auto session = std::make_unique<Session>(loop, gone);
  Session* raw = session.get();
  raw->self = std::move(session);
  raw->timer.start(1ms, [raw] {
    deferredDelete(raw->loop, std::move(raw->self));
    CHECK_FALSE(raw->gone);  // still alive for the rest of this callback
  });
  runUntil([&] { return gone; });
}

TEST_CASE("Loop destruction deletes what is still deferred", "[loop]") {
  int deletions = 0;
  {
    Loop loop;
    deferredDelete(loop, std::make_unique<Tracked>(deletions));
    deferredDelete(loop, std::make_unique<Timer>(loop));  // its handle closes with the Loop
  }
  CHECK(deletions == 1);
}

TEST_CASE("The leak check lists a handle a test forgot, and is empty once it is closed", "[loop]") {
  Loop loop;
  auto forgotten = std::make_unique<TcpListener>(loop);
  REQUIRE(forgotten->listen(SocketAddress::loopbackV4(), nullptr).ok());
  auto idle = std::make_unique<Timer>(loop);  // never started, still open

  auto live = liveHandles(loop, 50ms);
  std::sort(live.begin(), live.end());
  CHECK(live == std::vector<std::string>{"tcp", "timer"});

  forgotten.reset();
  idle.reset();
  CHECK(liveHandles(loop).empty());
}

// [!shouldfail]: Catch2 counts this test as passed only if one of its checks fails, here the
// fixture's leak check at the end.
TEST_CASE_METHOD(LoopFixture, "The fixture fails a test that leaks a handle",
                 "[loop][!shouldfail]") {
  auto leaked = std::make_shared<std::unique_ptr<Timer>>(std::make_unique<Timer>(loop));
  (*leaked)->start(1ms, [] {});
  afterLeakCheck = [this, leaked] {
    leaked->reset();
    loop.runNoWait();
  };
}

TEST_CASE("The leak check gives up on a handle that stays active", "[loop]") {
  Loop loop;
  auto ticking = std::make_unique<Timer>(loop);
  ticking->startRepeating(1ms, [] {});
  auto started = std::chrono::steady_clock::now();
  CHECK(liveHandles(loop, 30ms) == std::vector<std::string>{"timer"});
  CHECK(std::chrono::steady_clock::now() - started < 2s);
  ticking.reset();
  CHECK(liveHandles(loop).empty());
}

TEST_CASE_METHOD(LoopFixture, "Async wakes the loop from another thread", "[loop]") {
  int wakes = 0;
  std::unique_ptr<Async> async;
  async = std::make_unique<Async>(loop, [&] {
    ++wakes;
    async.reset();  // destroying it from its own callback is allowed
  });
  std::thread other([&] { async->send(); });
  runUntil([&] { return wakes == 1; });
  other.join();
  CHECK(async == nullptr);
}

TEST_CASE("A wrapped loop is left open by its Loop", "[loop]") {
  uv_loop_t raw;
  REQUIRE(uv_loop_init(&raw) == 0);
  {
    Loop loop(&raw);
    CHECK(&Loop::from(&raw) == &loop);
    bool fired = false;
    Timer timer(loop);
    timer.start(1ms, [&] { fired = true; });
    REQUIRE(runUntil(loop, [&] { return fired; }));
  }
  CHECK(uv_loop_alive(&raw) == 0);
  CHECK(uv_loop_close(&raw) == 0);
}
