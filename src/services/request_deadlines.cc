// The deadline job (R68, B10, R56): overdue requests marked and alerted, the early warnings at a
// half and four fifths of the term, destructions after a withdrawal carried out on their day, and
// the other obligations with a due time marked and alerted: notices to the subject (R47) and
// erasures deferred by a legal hold that has ended (R50).
#include "services/requests.h"

#include <algorithm>
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
      Json detail = {{"share", share}, {"due_at", FormatTimestamp(r->due_at)}};
      if (auto s = Stage(batch, school, *r, kind, Dump(detail), job, ctx); !s.ok()) {
        return s.error();
      }
      if (auto s = StageAlert(batch, school, *cp, *r, kind, r->due_at, share); !s.ok()) {
        return s.error();
      }
    }
    if (auto s = Commit(school, *r, std::move(batch)); !s.ok()) return s.error();
  }
  auto notices = MarkOverdueNotices(school, *cp, ctx);
  if (!notices.ok()) return notices.error();
  report.notices_overdue = *notices;
  auto holds = MarkOverdueHolds(school, *cp, ctx);
  if (!holds.ok()) return holds.error();
  report.holds_overdue = *holds;
  return report;
}

Status RequestService::StageAlert(ports::WriteBatch& batch, const SchoolId& school,
                                  const domain::CompiledPolicy& cp, const RequestInfo& r,
                                  const std::string& kind, Timestamp due,
                                  const std::string& share) {
  std::string to = cp.policy().officers.responsible_person.email;
  if (!r.assignee.empty()) {
    auto staff = deps_.store.GetStaff(school, StaffId(r.assignee));
    if (staff.ok() && *staff) to = (*staff)->email;
  }
  if (!domain::NormaliseEmail(to)) return Status::Ok();
  const std::string lang = "uk";
  OutMessage msg = Letter(kind, lang, to,
                          {{"id", r.id},
                           {"type", RequestTypeName(r.type, lang)},
                           {"share", share},
                           {"due", LetterDate(cp.calendar(), due, lang)}});
  msg.request = r.id;
  auto mid = outbox_.Add(batch, school, msg);
  if (!mid.ok()) return mid.error();
  return Status::Ok();
}

// R47, R68: a notice to the subject (after a rectification, erasure or suspension) still unsent
// past the policy's term is marked overdue on its message and on the request's timeline, once,
// and the person responsible for the request is alerted. Its lateness is recorded when it is
// finally sent (Outbox::DeliverDue).
Result<int> RequestService::MarkOverdueNotices(const SchoolId& school,
                                               const domain::CompiledPolicy& cp,
                                               const RequestContext& ctx) {
  const Actor job = Actor::System("deadlines");
  return outbox_.MarkOverdue(school, deps_.clock.Now(), [&](ports::OutboxRow marked) -> Status {
    ports::WriteBatch batch;
    if (marked.request.empty()) {  // no request to show it on: the mark alone
      batch.outbox.push_back(std::move(marked));
      return deps_.store.Commit(std::move(batch));
    }
    std::lock_guard<std::mutex> lock(SchoolMutex(school));
    auto r = Load(school, marked.request);
    if (!r.ok()) return r.error();
    Json body = Json::parse(marked.body, nullptr, false);
    const Timestamp due(std::chrono::microseconds(body.value("due_us", int64_t{0})));
    Json detail = {{"message", marked.id},
                   {"message_kind", body.value("kind", "")},
                   {"due_at", FormatTimestamp(due)}};
    batch.outbox.push_back(std::move(marked));
    if (auto s = Stage(batch, school, *r, "notice_overdue", Dump(detail), job, ctx); !s.ok()) {
      return s;
    }
    if (auto s = StageAlert(batch, school, cp, *r, "notice_overdue", due, ""); !s.ok()) return s;
    return Commit(school, *r, std::move(batch));
  });
}

// R50, R68: a deferred erasure is due the day after its legal hold ends (or is released), when
// the daily retention job carries it out. One still not carried out a whole day later is marked
// on the deferred request's timeline, once per hold, and the person responsible is alerted.
Result<int> RequestService::MarkOverdueHolds(const SchoolId& school,
                                             const domain::CompiledPolicy& cp,
                                             const RequestContext& ctx) {
  const calendar::Calendar& cal = cp.calendar();
  const Actor job = Actor::System("deadlines");
  auto local_day = [&](Timestamp t) {
    return cal.LocalDate(std::chrono::floor<std::chrono::seconds>(t));
  };
  const std::string yesterday = calendar::FormatDate(local_day(deps_.clock.Now()) - 1);
  auto due = deps_.store.DueLegalHolds(school, yesterday, 1000);
  if (!due.ok()) return due.error();
  int marked = 0;
  for (const auto& hold : *due) {
    if (hold.request.empty()) continue;  // it deferred no erasure: nothing to carry out
    std::string ended = hold.until;
    if (hold.state != "active" && hold.closed_at) {
      ended = calendar::FormatDate(local_day(*hold.closed_at));
      if (ended >= yesterday) continue;  // the retention job still has today
    }
    std::lock_guard<std::mutex> lock(SchoolMutex(school));
    auto events = deps_.store.GetRequestEvents(school, hold.request);
    if (!events.ok()) return events.error();
    const bool alerted = std::any_of(events->begin(), events->end(), [&](const auto& e) {
      if (e.kind != "hold_overdue") return false;
      const Json detail = Json::parse(e.body, nullptr, false);
      return detail.is_object() && detail.value("hold", "") == hold.id;
    });
    if (alerted) continue;
    auto r = Load(school, hold.request);
    if (!r.ok()) return r.error();
    auto ended_day = calendar::ParseDate(ended);
    if (!ended_day.ok()) return ended_day.error();
    const Timestamp end(cal.StartOfDay(*ended_day));
    ports::WriteBatch batch;
    Json detail = {{"hold", hold.id}, {"ended", ended}};
    if (auto s = Stage(batch, school, *r, "hold_overdue", Dump(detail), job, ctx); !s.ok()) {
      return s.error();
    }
    if (auto s = StageAlert(batch, school, cp, *r, "hold_overdue", end, ""); !s.ok()) {
      return s.error();
    }
    if (auto s = Commit(school, *r, std::move(batch)); !s.ok()) return s.error();
    ++marked;
  }
  return marked;
}

}  // namespace dovira::services
