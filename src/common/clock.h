// Time, injected. Services read the time only through a Clock so that tests can move it ("7
// working days later") instead of sleeping, and black-box tests can drive the real server's clock.
//
// Thread-safety: Clock implementations are safe to call from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace dovira {

// Microseconds since the Unix epoch, UTC.
using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp Now() const = 0;
};

// The wall clock.
class SystemClock final : public Clock {
 public:
  Timestamp Now() const override {
    return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  }
};

// A clock that moves only when told to. Used by tests and by the server's --fake-clock mode.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Timestamp start) : us_(start.time_since_epoch().count()) {}
  Timestamp Now() const override {
    return Timestamp(std::chrono::microseconds(us_.load(std::memory_order_acquire)));
  }
  void Set(Timestamp t) { us_.store(t.time_since_epoch().count(), std::memory_order_release); }
  void Advance(std::chrono::microseconds d) { us_.fetch_add(d.count(), std::memory_order_acq_rel); }

 private:
  std::atomic<int64_t> us_;
};

// "2025-03-03T10:00:00.000000Z"
std::string FormatTimestamp(Timestamp t);
// Parses RFC 3339 with a Z or +HH:MM offset, seconds and fraction optional. Error text in `error`.
bool ParseTimestamp(const std::string& text, Timestamp* out, std::string* error);

}  // namespace dovira
