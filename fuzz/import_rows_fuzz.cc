// Fuzz target: any bytes as a bulk import file (api::ImportReader), each row read then validated
// as one intake (domain::ValidateSubmission) against the shipped policy 001. The first byte picks
// the format (even: CSV, odd: JSON lines); the rest is the file. Nothing may crash, hang or leak,
// and a file either fails at its header or yields rows with a line each, in order.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include "api/submissions.h"
#include "domain/compiled_policy.h"
#include "policy/checker.h"

namespace {

const dovira::domain::CompiledPolicy& Policy() {
  static const dovira::domain::CompiledPolicy* compiled = [] {
    const std::string path = std::string(DOVIRA_SOURCE_DIR) + "/policies/001_vkluchi_zhizn.toml";
    static dovira::policy::CheckResult r = dovira::policy::CheckPolicyFile(path);
    if (!r.ok()) {
      std::fprintf(stderr, "cannot load %s\n", path.c_str());
      std::abort();
    }
    static auto cp = dovira::domain::CompiledPolicy::Compile(*r.policy);
    if (!cp.ok()) std::abort();
    return cp->get();
  }();
  return *compiled;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto format =
      data[0] % 2 == 0 ? dovira::api::ImportFormat::kCsv : dovira::api::ImportFormat::kJsonLines;
  std::istringstream in(std::string(reinterpret_cast<const char*>(data) + 1, size - 1));
  auto reader = dovira::api::ImportReader::Open(in, format, "uk");
  if (!reader.ok()) return 0;
  const auto now = std::chrono::time_point_cast<std::chrono::microseconds>(
      std::chrono::sys_days{std::chrono::year{2026} / 1 / 15});
  dovira::services::ImportRow row;
  size_t last_line = 0;
  while ((*reader)->Next(row)) {
    if (row.line <= last_line) std::abort();  // lines go forward
    last_line = row.line;
    if (row.unreadable) continue;
    row.submission.subject_kind = row.submission.subject_kind.empty() && row.submission.form.empty()
                                      ? "buyer"
                                      : row.submission.subject_kind;
    (void)dovira::domain::ValidateSubmission(Policy(), row.submission, now);
  }
  return 0;
}
