#include "cli/commands.h"

#include <ostream>

#include "calendar/calendar.h"
#include "calendar/date.h"
#include "calendar/term.h"
#include "notice/render.h"
#include "policy/checker.h"

namespace dovira::cli {

int PolicyCheck(const std::vector<std::string>& files, bool quiet_info, std::ostream& out,
                std::ostream& err) {
  bool any_error = false;
  for (const auto& file : files) {
    policy::CheckResult r = policy::CheckPolicyFile(file);
    for (const auto& f : r.findings.all()) {
      if (quiet_info && f.severity == policy::Severity::kInfo) continue;
      out << policy::FormatFinding(file, f) << "\n";
    }
    int e = r.findings.Count(policy::Severity::kError);
    int w = r.findings.Count(policy::Severity::kWarning);
    int i = r.findings.Count(policy::Severity::kInfo);
    err << file << ": " << e << (e == 1 ? " error, " : " errors, ") << w
        << (w == 1 ? " warning, " : " warnings, ") << i << " info"
        << (e ? " — the policy cannot be activated" : "") << "\n";
    any_error = any_error || e > 0 || !r.policy;
  }
  return any_error ? 1 : 0;
}

int PolicyRender(const std::string& file, const std::string& lang, const std::string& format,
                 const std::string& audience, std::ostream& out, std::ostream& err) {
  notice::Format fmt;
  if (format == "html") {
    fmt = notice::Format::kHtml;
  } else if (format == "md" || format == "markdown") {
    fmt = notice::Format::kMarkdown;
  } else {
    err << "dovira policy render: --format must be html or md, not \"" << format << "\"\n";
    return 2;
  }
  if (audience != "public" && audience != "dpo") {
    err << "dovira policy render: --audience must be public or dpo, not \"" << audience << "\"\n";
    return 2;
  }
  auto loaded = policy::LoadCheckedPolicy(file);
  if (!loaded.ok()) {
    err << "dovira policy render: " << loaded.error().message << "\n";
    return 1;
  }
  auto text = notice::RenderNotice(
      *loaded, lang, fmt, audience == "dpo" ? notice::Audience::kDpo : notice::Audience::kPublic);
  if (!text.ok()) {
    err << "dovira policy render: " << text.error().message << "\n";
    return 2;
  }
  out << *text;
  return 0;
}

int Deadline(const DeadlineArgs& args, std::ostream& out, std::ostream& err) {
  calendar::CalendarConfig config;
  calendar::Term term;
  bool have_term = false;
  std::optional<policy::Policy> pol;
  if (!args.policy.empty()) {
    auto loaded = policy::LoadCheckedPolicy(args.policy);
    if (!loaded.ok()) {
      err << "dovira deadline: " << loaded.error().message << "\n";
      return 1;
    }
    pol = std::move(*loaded);
    config = pol->calendar;
  }
  if (!args.timezone.empty()) config.timezone = args.timezone;
  for (const auto& h : args.holidays) {
    auto d = calendar::ParseDate(h);
    if (!d.ok()) {
      err << "dovira deadline: --holiday " << h << ": " << d.error().message << "\n";
      return 2;
    }
    config.holidays.push_back(*d);
  }
  if (args.holidays_are_working_days) config.holidays_are_working_days = true;
  if (args.roll_forward) config.roll_forward_non_working = true;

  if (!args.term.empty() && !args.right.empty()) {
    err << "dovira deadline: give --term or --right, not both\n";
    return 2;
  }
  if (!args.term.empty()) {
    auto t = calendar::ParseTerm(args.term);
    if (!t.ok()) {
      err << "dovira deadline: --term: " << t.error().message << "\n";
      return 2;
    }
    term = *t;
    have_term = true;
  } else if (!args.right.empty()) {
    if (!pol) {
      err << "dovira deadline: --right needs --policy\n";
      return 2;
    }
    const policy::Right* r = pol->FindRight(args.right);
    if (!r || !r->enabled || !r->deadline.term) {
      err << "dovira deadline: the policy has no term for right \"" << args.right << "\"\n";
      return 1;
    }
    term = *r->deadline.term;
    have_term = true;
  }
  if (!have_term) {
    err << "dovira deadline: --term is required (e.g. --term \"7 working days\")\n";
    return 2;
  }
  auto cal = calendar::Calendar::Create(config);
  if (!cal.ok()) {
    err << "dovira deadline: " << cal.error().message << "\n";
    return 1;
  }
  if (term.unit == calendar::TermUnit::kIndefinite) {
    err << "dovira deadline: an indefinite term has no due date\n";
    return 1;
  }
  const bool has_time = args.from.find('T') != std::string::npos;
  if (term.unit == calendar::TermUnit::kHours || has_time) {
    auto at = cal->ParseLocal(args.from);
    if (!at.ok()) {
      err << "dovira deadline: --from: " << at.error().message << "\n";
      return 2;
    }
    auto due = calendar::DueInstant(*cal, *at, term);
    if (!due.ok()) {
      err << "dovira deadline: " << due.error().message << "\n";
      return 1;
    }
    if (term.unit == calendar::TermUnit::kHours) {
      out << cal->FormatLocal(*due) << "\n";
    } else {
      out << calendar::FormatDate(cal->LocalDate(*due)) << "\n";
    }
    return 0;
  }
  auto from = calendar::ParseDate(args.from);
  if (!from.ok()) {
    err << "dovira deadline: --from: " << from.error().message << "\n";
    return 2;
  }
  auto due = calendar::DueDate(*cal, *from, term);
  if (!due.ok()) {
    err << "dovira deadline: " << due.error().message << "\n";
    return 1;
  }
  out << calendar::FormatDate(*due) << "\n";
  return 0;
}

}  // namespace dovira::cli
