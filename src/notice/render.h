// The human-readable privacy notice (R01), rendered from a loaded Policy alone, so that the
// published text and what the platform enforces come from the same file. The notice has fourteen
// numbered sections (who we are; whose data; what data; why; consent; recipients and transfers;
// how long; your rights; children; cookies; marketing, automated decisions and profiling;
// security; changes; how ambiguous clauses are read) in Ukrainian, Russian or English, as a
// standalone HTML page or as Markdown.
//
// Text the school wrote is taken in the requested language, else in the policy's authoritative
// language, else in any language it has. Every string from the policy is escaped for the output
// format; nothing in a policy file can inject markup.
//
// Thread-safety: pure function of its arguments; safe to call concurrently on a shared Policy.
#pragma once

#include <string>

#include "common/result.h"
#include "policy/model.h"

namespace dovira::notice {

enum class Format { kHtml, kMarkdown };

// Who reads the notice. The public notice (what a school publishes, and what GET /policy serves)
// states each resolution of the policy's own contradictions as the school's decision in plain
// words (`[[resolutions]].notice`), never its finding code, choice, reason or requirement ids.
// The data-protection officer's edition adds those engineering notes to section 14.
enum class Audience { kPublic, kDpo };

// Renders the complete notice for `lang` ("uk", "ru" or "en"). Error (kInvalidArgument, field
// "lang") on an unknown language.
Result<std::string> RenderNotice(const policy::Policy& policy, const std::string& lang,
                                 Format format, Audience audience = Audience::kPublic);

}  // namespace dovira::notice
