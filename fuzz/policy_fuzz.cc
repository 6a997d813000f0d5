// Fuzz target: any bytes through the policy loader, the checker and, when the policy has no
// errors, the notice renderer in every language and format. Nothing may crash, hang or leak.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "notice/render.h"
#include "policy/checker.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  dovira::policy::CheckResult r = dovira::policy::CheckPolicyText(text, "fuzz.toml");
  for (const auto& f : r.findings.all()) {
    (void)dovira::policy::FormatFinding("fuzz.toml", f);
  }
  if (r.ok()) {
    for (const char* lang : {"uk", "ru", "en"}) {
      (void)dovira::notice::RenderNotice(*r.policy, lang, dovira::notice::Format::kHtml);
      (void)dovira::notice::RenderNotice(*r.policy, lang, dovira::notice::Format::kMarkdown);
    }
  }
  return 0;
}
