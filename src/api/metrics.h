// Counters and latency histograms in the Prometheus text format (GET /metrics).
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <string>

namespace dovira::api {

class Metrics {
 public:
  // One finished request: the route pattern (not the raw path), method, status, duration.
  void ObserveRequest(const std::string& route, const std::string& method, int status,
                      double seconds);
  void CountDecision(bool allowed);
  void CountIntake(bool ok);
  // The rows of a bulk import, counted with the submissions.
  void CountImport(uint64_t stored, uint64_t refused);
  std::string Render() const;

 private:
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> buckets{};
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::string, uint64_t> requests_;       // "route|method|status"; guarded by mu_
  std::map<std::string, Histogram> durations_;     // "route|method"; guarded by mu_
  std::atomic<uint64_t> allowed_{0}, denied_{0}, intake_ok_{0}, intake_refused_{0};
};

}  // namespace dovira::api
