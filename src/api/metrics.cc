#include "api/metrics.h"

#include <sstream>

namespace dovira::api {

void Metrics::ObserveRequest(const std::string& route, const std::string& method, int status,
                             double seconds) {
  std::lock_guard lock(mu_);
  ++requests_[route + "|" + method + "|" + std::to_string(status)];
  Histogram& h = durations_[route + "|" + method];
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::CountDecision(bool allowed) { (allowed ? allowed_ : denied_).fetch_add(1); }
void Metrics::CountIntake(bool ok) { (ok ? intake_ok_ : intake_refused_).fetch_add(1); }
void Metrics::CountImport(uint64_t stored, uint64_t refused) {
  intake_ok_.fetch_add(stored);
  intake_refused_.fetch_add(refused);
}

std::string Metrics::Render() const {
  std::ostringstream out;
  auto split = [](const std::string& key, std::string* a, std::string* b, std::string* c) {
    size_t p = key.find('|');
    size_t q = key.find('|', p + 1);
    *a = key.substr(0, p);
    *b = key.substr(p + 1, q == std::string::npos ? std::string::npos : q - p - 1);
    if (c) *c = q == std::string::npos ? "" : key.substr(q + 1);
  };
  std::lock_guard lock(mu_);
  out << "# HELP dovira_http_requests_total HTTP requests by route, method and status.\n"
      << "# TYPE dovira_http_requests_total counter\n";
  for (const auto& [k, v] : requests_) {
    std::string route, method, status;
    split(k, &route, &method, &status);
    out << "dovira_http_requests_total{route=\"" << route << "\",method=\"" << method
        << "\",status=\"" << status << "\"} " << v << "\n";
  }
  out << "# HELP dovira_http_request_duration_seconds Time to answer, by route and method.\n"
      << "# TYPE dovira_http_request_duration_seconds histogram\n";
  for (const auto& [k, h] : durations_) {
    std::string route, method;
    split(k, &route, &method, nullptr);
    std::string labels = "route=\"" + route + "\",method=\"" + method + "\"";
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      out << "dovira_http_request_duration_seconds_bucket{" << labels << ",le=\"" << kBuckets[i]
          << "\"} " << h.buckets[i] << "\n";
    }
    out << "dovira_http_request_duration_seconds_bucket{" << labels << ",le=\"+Inf\"} " << h.count
        << "\n";
    out << "dovira_http_request_duration_seconds_sum{" << labels << "} " << h.sum << "\n";
    out << "dovira_http_request_duration_seconds_count{" << labels << "} " << h.count << "\n";
  }
  out << "# HELP dovira_gate_decisions_total Purpose-gate decisions by outcome.\n"
      << "# TYPE dovira_gate_decisions_total counter\n"
      << "dovira_gate_decisions_total{outcome=\"allow\"} " << allowed_.load() << "\n"
      << "dovira_gate_decisions_total{outcome=\"deny\"} " << denied_.load() << "\n"
      << "# HELP dovira_intake_total Submissions by outcome.\n"
      << "# TYPE dovira_intake_total counter\n"
      << "dovira_intake_total{outcome=\"stored\"} " << intake_ok_.load() << "\n"
      << "dovira_intake_total{outcome=\"refused\"} " << intake_refused_.load() << "\n";
  return out.str();
}

}  // namespace dovira::api
