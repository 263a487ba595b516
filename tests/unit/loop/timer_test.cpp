#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "core/loop/timer.h"
#include "tests/unit/loop/loop_fixture.h"

using namespace mesh::core;
using namespace std::chrono_literals;
using mesh::test::LoopFixture;

TEST_CASE_METHOD(LoopFixture, "Timers fire in the order of their timeouts", "[loop][timer]") {
  std::string order;
  Timer late(loop), early(loop), middle(loop);
  late.start(30ms, [&] { order += 'c'; });
  early.start(0ms, [&] { order += 'a'; });
  middle.start(10ms, [&] { order += 'b'; });
  CHECK(late.isActive());
  CHECK(late.dueIn() <= 30ms);
  auto started = loop.now();
  runUntil([&] { return order.size() == 3; });
  CHECK(order == "abc");
  loop.updateTime();
  CHECK(loop.now() - started >= 30);
  CHECK_FALSE(late.isActive());
  CHECK(late.dueIn() == 0ms);
}

TEST_CASE_METHOD(LoopFixture, "A destroyed or stopped timer never fires", "[loop][timer]") {
  bool fired = false, stoppedFired = false, witness = false;
  auto doomed = std::make_unique<Timer>(loop);
  doomed->start(5ms, [&] { fired = true; });
  Timer stopped(loop);
  stopped.start(5ms, [&] { stoppedFired = true; });
  stopped.stop();
  Timer later(loop);
  later.start(30ms, [&] { witness = true; });
  doomed.reset();
  runUntil([&] { return witness; });
  CHECK_FALSE(fired);
  CHECK_FALSE(stoppedFired);
}

TEST_CASE_METHOD(LoopFixture, "A repeating timer fires until stopped", "[loop][timer]") {
  Timer tick(loop);
  int ticks = 0;
  tick.startRepeating(2ms, [&] {
    if (++ticks == 5) tick.stop();
  });
  runUntil([&] { return ticks == 5; });
  CHECK_FALSE(tick.isActive());
  loop.runNoWait();
  CHECK(ticks == 5);
}

TEST_CASE_METHOD(LoopFixture, "restart() pushes a one-shot timer back", "[loop][timer]") {
  Timer watchdog(loop), kicker(loop);
  bool barked = false;
  int kicks = 0;
  watchdog.start(40ms, [&] { barked = true; });
  // Kick the watchdog every 10 ms, 6 times: it must not bark before 60 ms have passed.
  kicker.startRepeating(10ms, [&] {
    watchdog.restart();
    if (++kicks == 6) kicker.stop();
  });
  runUntil([&] { return kicks == 6; });
  CHECK_FALSE(barked);
  runUntil([&] { return barked; });
}

TEST_CASE_METHOD(LoopFixture, "A timer may start itself again or delete itself from its callback",
                 "[loop][timer]") {
  Timer again(loop);
  int fires = 0;
  std::function<void()> rearm = [&] {
    if (++fires < 3) again.start(1ms, rearm);
  };
  again.start(1ms, rearm);
  auto self = std::make_unique<Timer>(loop);
  bool deleted = false;
  self->start(1ms, [&] {
    self.reset();
    deleted = true;
  });
  runUntil([&] { return fires == 3 && deleted; });
  CHECK(self == nullptr);
}
