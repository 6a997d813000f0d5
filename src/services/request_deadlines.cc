// The deadline job (R68, B10, R56): overdue requests marked and alerted, the early warnings at a
// half and four fifths of the term, and destructions after a withdrawal carried out on their day.
#include "services/requests.h"

#include <utility>

#include "domain/intake.h"
#include "services/request_internal.h"
#include "services/request_texts.h"

namespace dovira::services {

using namespace request_internal;  // NOLINT(google-build-using-namespace)
using domain::RequestState;

// --- The daily job -----------------------------------------------------------------------------

Result<DeadlineReport> RequestService::RunDeadlines(const SchoolId& school,
                                                    const RequestContext& ctx) {
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto cp = (*rt)->policy();
  const policy::Policy& p = cp->policy();
  const Timestamp now = deps_.clock.Now();
  const Actor job = Actor::System("deadlines");
  DeadlineReport report;
  // Only the requests with something to do are loaded (and their sealed part opened): a
  // destruction due, a term just passed, or a warning not yet sent.
  std::vector<std::string> open_ids;
  Status st = deps_.store.ForEachRequest(school, true, [&](const ports::RequestRow& row) {
    if (row.type == "withdrawal" && domain::DueDayReached(cp->calendar(), now, row.due_at)) {
      open_ids.push_back(row.id);
      return;
    }
    if (row.overdue) return;  // marked and alerted already
    if (now > row.due_at) {
      open_ids.push_back(row.id);
      return;
    }
    const domain::Milestones m = domain::WarningTimes(cp->calendar(), row.received_at, row.due_at);
    if (now < m.half) return;
    Json body = Json::parse(row.body, nullptr, false);
    if (body.is_discarded()) return;
    const bool half_sent = !body.value("warned_half_at", Json()).is_null();
    const bool four_fifths_sent = !body.value("warned_four_fifths_at", Json()).is_null();
    if (!half_sent || (now >= m.four_fifths && !four_fifths_sent)) open_ids.push_back(row.id);
  });
  if (!st.ok()) return st.error();
  const std::string officer = p.officers.responsible_person.email;
  for (const auto& id : open_ids) {
    std::unique_lock<std::mutex> lock(SchoolMutex(school));
    auto r = Load(school, id);
    if (!r.ok()) return r.error();
    // R56: a destruction after a withdrawal falls due: carried out by the job on its due day.
    if (r->right == "withdrawal" && domain::DueDayReached(cp->calendar(), now, r->due_at) &&
        r->state == domain::RequestStateName(RequestState::kInProgress)) {
      lock.unlock();
      auto done = Destroy(school, std::move(*r), "consent_withdrawn", job, ctx);
      if (!done.ok()) return done.error();
      ++report.destroyed;
      continue;
    }
    ports::WriteBatch batch;
    std::vector<std::pair<std::string, std::string>> alerts;  // kind, share
    const domain::Milestones m = domain::WarningTimes(cp->calendar(), r->received_at, r->due_at);
    if (!r->warned_half_at && now >= m.half && now <= r->due_at) {
      r->warned_half_at = now;
      alerts.emplace_back("warning", "50%");
    }
    if (!r->warned_four_fifths_at && now >= m.four_fifths && now <= r->due_at) {
      r->warned_four_fifths_at = now;
      if (!r->warned_half_at) r->warned_half_at = now;
      alerts.emplace_back("warning", "80%");
    }
    if (!r->overdue && now > r->due_at) {
      r->overdue = true;
      r->overdue_at = now;
      alerts.emplace_back("overdue", "");
    }
    if (alerts.empty()) continue;
    for (const auto& [kind, share] : alerts) {
      if (kind == "overdue") ++report.overdue;
      else ++report.warnings;
      std::string to = officer;
      if (!r->assignee.empty()) {
        auto staff = deps_.store.GetStaff(school, StaffId(r->assignee));
        if (staff.ok() && *staff) to = (*staff)->email;
      }
      Json detail = {{"share", share}, {"due_at", FormatTimestamp(r->due_at)}};
      if (auto s = Stage(batch, school, *r, kind, Dump(detail), job, ctx); !s.ok()) {
        return s.error();
      }
      if (domain::NormaliseEmail(to)) {
        const std::string lang = "uk";
        OutMessage msg = Letter(
            kind, lang, to,
            {{"id", r->id},
             {"type", RequestTypeName(r->type, lang)},
             {"share", share},
             {"due", LetterDate(cp->calendar(), r->due_at, lang)}});
        msg.request = r->id;
        auto mid = outbox_.Add(batch, school, msg);
        if (!mid.ok()) return mid.error();
      }
    }
    if (auto s = Commit(school, *r, std::move(batch)); !s.ok()) return s.error();
  }
  return report;
}

}  // namespace dovira::services
