// Fuzz target: any bytes as a test-data export through CheckExportFiles, the check an export
// passes before it is loaded into a test environment (R91). The input is split at NUL bytes into
// manifest.json, subjects.jsonl, records.jsonl, consents.jsonl and requests.jsonl (a part that is
// not there is a missing file), checked against the shipped policy 003, whose clause §22.9 asks
// for pseudonyms in test systems. Nothing may crash, hang or leak.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <string>
#include <string_view>

#include "policy/checker.h"
#include "services/testdata.h"

namespace {

const dovira::policy::Policy* Policy() {
  static const dovira::policy::Policy* policy = [] {
    const std::string path = std::string(DOVIRA_SOURCE_DIR) + "/policies/003_it_pro.toml";
    static dovira::policy::CheckResult r = dovira::policy::CheckPolicyFile(path);
    if (!r.ok()) {
      std::fprintf(stderr, "cannot load %s\n", path.c_str());
      std::abort();
    }
    return &*r.policy;
  }();
  return policy;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  static const char* const kNames[] = {"manifest.json", "subjects.jsonl", "records.jsonl",
                                       "consents.jsonl", "requests.jsonl"};
  dovira::services::ExportFiles files;
  for (const char* name : kNames) {
    if (input.data() == nullptr) break;
    const size_t end = input.find('\0');
    files.emplace(name, std::string(input.substr(0, end)));
    if (end == std::string_view::npos) {
      input = std::string_view();
      break;
    }
    input.remove_prefix(end + 1);
  }
  auto problems = dovira::services::CheckExportFiles(files, *Policy());
  for (const auto& p : problems) {
    if (p.file.empty() || p.what.empty()) std::abort();  // every problem names its file and what
  }
  return 0;
}
