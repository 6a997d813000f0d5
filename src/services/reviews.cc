#include "services/reviews.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include <nlohmann/json.hpp>

#include "calendar/calendar.h"
#include "domain/intake.h"
#include "domain/requests.h"
#include "services/privileged.h"
#include "services/request_texts.h"

namespace dovira::services {
namespace {

using Json = nlohmann::ordered_json;

// Open tasks of one school: a handful (one scheduled, one per recent change in the law).
constexpr size_t kMaxOpenReviews = 1000;

calendar::Date LocalDay(const calendar::Calendar& cal, Timestamp t) {
  return cal.LocalDate(std::chrono::floor<std::chrono::seconds>(t));
}

// A new open task due `term` after the local day `from`; nullopt for a term that gives no due
// day ("indefinite", or hours, which a review interval never sensibly is).
std::optional<ports::ReviewTaskRow> NewTask(const SchoolId& school, const std::string& id,
                                            const calendar::Calendar& cal, calendar::Date from,
                                            const calendar::Term& term, const Actor& by,
                                            Timestamp now) {
  auto due = calendar::DueDate(cal, from, term);
  if (!due.ok()) return std::nullopt;
  ports::ReviewTaskRow t;
  t.school = school;
  t.id = id;
  t.reason = "scheduled";
  t.due_date = calendar::FormatDate(*due);
  t.due_at = Timestamp(cal.EndOfDay(*due));
  if (by.kind == Actor::Kind::kStaff) t.assignee = by.id;
  t.created_at = now;
  t.created_by = by.AuditName();
  return t;
}

Json TaskRef(const ports::ReviewTaskRow& t) {
  return Json{{"task", t.id},
              {"reason", t.reason},
              {"due", t.due_date},
              {"late_by_days", t.late_by_days}};
}

}  // namespace

ReviewService::ReviewService(Deps deps, Schools& schools, AuditLog& audit, Outbox* outbox)
    : deps_(deps), schools_(schools), audit_(audit), outbox_(outbox) {}

Result<std::vector<ports::ReviewTaskRow>> ReviewService::OpenTasks(
    const SchoolId& school, const domain::CompiledPolicy& cp) {
  auto open = deps_.store.ListReviewTasks(school, true, kMaxOpenReviews);
  if (!open.ok()) return open.error();
  const policy::Policy& p = cp.policy();
  if (!p.policy_change.review_interval) return open;
  for (const auto& t : *open) {
    if (t.reason == "scheduled") return open;
  }
  // The next review counts from the last one recorded. Where none ever was, from the day the
  // policy version in force came into force: the text to review is that version, and its
  // effective date is a fact of the policy itself, the same on every server, where the school's
  // creation in this store depends on when it was installed or restored. A version without an
  // effective date counts from its publication, and one with neither from the school's creation.
  auto last = deps_.store.ListReviewTasks(school, false, 1);
  if (!last.ok()) return last.error();
  const calendar::Calendar& cal = cp.calendar();
  std::optional<calendar::Date> from;
  if (!last->empty() && last->front().done_at) {
    from = LocalDay(cal, *last->front().done_at);
  } else if (p.version.effective) {
    from = p.version.effective;
  } else if (p.version.published) {
    from = p.version.published;
  } else {
    auto row = deps_.store.GetSchool(school);
    if (!row.ok()) return row.error();
    from = LocalDay(cal, *row ? (*row)->created_at : deps_.clock.Now());
  }
  const Timestamp now = deps_.clock.Now();
  auto task = NewTask(school, "rv_" + deps_.crypto.NewId(), cal, *from,
                      *p.policy_change.review_interval, Actor::System("reviews"), now);
  if (!task) return open;
  ports::WriteBatch batch;
  batch.review_tasks.push_back(*task);
  if (Status st = deps_.store.Commit(std::move(batch)); !st.ok()) return st.error();
  open->push_back(std::move(*task));
  return open;
}

Result<ReviewOverview> ReviewService::List(const SchoolId& school) {
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto cp = (*rt)->policy();
  std::lock_guard<std::mutex> lock(mu_);
  ReviewOverview out;
  out.interval = cp->policy().policy_change.review_interval;
  out.on_law_change = cp->policy().policy_change.review_on_law_change;
  auto open = OpenTasks(school, *cp);
  if (!open.ok()) return open.error();
  out.open = std::move(*open);
  std::sort(out.open.begin(), out.open.end(), [](const auto& a, const auto& b) {
    return a.due_at != b.due_at ? a.due_at < b.due_at : a.id < b.id;
  });
  auto done = deps_.store.ListReviewTasks(school, false, kRecentReviews);
  if (!done.ok()) return done.error();
  out.done = std::move(*done);
  return out;
}

Result<RecordedReview> ReviewService::Record(const SchoolId& school, const std::string& summary,
                                             const Actor& actor, const RequestContext& ctx) {
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto cp = (*rt)->policy();
  Status privileged = RequirePrivilegedStaff(*cp, actor, "reviews of the policy are recorded");
  if (!privileged.ok()) return privileged.error();
  if (summary.empty()) {
    return Error::Refused("summary_required", "say what the review found", "summary");
  }
  if (summary.size() > kMaxReviewSummary) {
    return Error::Refused("summary_too_long", "the summary is longer than 4000 bytes", "summary")
        .With("limit", std::to_string(kMaxReviewSummary));
  }
  const policy::Policy& p = cp->policy();
  const calendar::Calendar& cal = cp->calendar();
  std::lock_guard<std::mutex> lock(mu_);
  auto open = OpenTasks(school, *cp);
  if (!open.ok()) return open.error();
  const Timestamp now = deps_.clock.Now();
  const calendar::Date today = LocalDay(cal, now);
  RecordedReview out;
  if (open->empty()) {
    // No task was open (the policy sets no interval and no change in the law asked for one):
    // the review is kept as a task due and done today, so that the list shows it.
    auto task = NewTask(school, "rv_" + deps_.crypto.NewId(), cal, today,
                        calendar::Term{0, calendar::TermUnit::kImmediate, true}, actor, now);
    if (task) open->push_back(std::move(*task));
  }
  // One review looks at the whole policy against the law in force, so it answers every open
  // task, the scheduled one and those a change in the law opened.
  for (auto& t : *open) {
    t.done_at = now;
    t.done_by = actor.AuditName();
    t.summary = summary;
    t.late_by_days = domain::LateByDays(cal, t.due_at, now);
    out.closed.push_back(t);
  }
  if (p.policy_change.review_interval) {
    out.next = NewTask(school, "rv_" + deps_.crypto.NewId(), cal, today,
                       *p.policy_change.review_interval, actor, now);
  }

  ports::WriteBatch batch;
  batch.power_safe = true;
  Json closed = Json::array();
  for (const auto& t : out.closed) {
    batch.review_tasks.push_back(t);
    closed.push_back(TaskRef(t));
  }
  if (out.next) batch.review_tasks.push_back(*out.next);
  AuditEvent e;
  e.actor = actor.AuditName();
  e.role = actor.role;
  e.action = "policy.review";
  e.outcome = "ok";
  e.decision_id = out.closed.empty() ? "" : out.closed.front().id;
  e.request_id = ctx.request_id;
  e.detail = Json{{"version", (*rt)->version()},
                  {"closed", closed},
                  {"next", out.next ? Json(TaskRef(*out.next)) : Json(nullptr)}}
                 .dump();
  audit_.Add(batch, school, std::move(e));
  if (Status st = deps_.store.Commit(std::move(batch)); !st.ok()) return st.error();
  return out;
}

Result<RecordedLawChange> ReviewService::RecordLawChange(const SchoolId& school,
                                                         const LawChange& change,
                                                         const Actor& actor,
                                                         const RequestContext& ctx) {
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto cp = (*rt)->policy();
  Status privileged = RequirePrivilegedStaff(*cp, actor, "reviews of the policy are recorded");
  if (!privileged.ok()) return privileged.error();
  if (change.description.empty()) {
    return Error::Refused("description_required", "say what changed in the law", "description");
  }
  if (change.description.size() > kMaxLawChangeDescription) {
    return Error::Refused("description_too_long", "the description is longer than 2000 bytes",
                          "description")
        .With("limit", std::to_string(kMaxLawChangeDescription));
  }
  if (change.law.size() > kMaxLawName) {
    return Error::Refused("law_too_long", "the name of the law is longer than 200 bytes", "law")
        .With("limit", std::to_string(kMaxLawName));
  }
  const calendar::Calendar& cal = cp->calendar();
  std::lock_guard<std::mutex> lock(mu_);
  const Timestamp now = deps_.clock.Now();
  RecordedLawChange out;
  out.id = "lc_" + deps_.crypto.NewId();
  out.recorded_at = now;
  out.review_required = cp->policy().policy_change.review_on_law_change;
  ports::WriteBatch batch;
  batch.power_safe = true;
  if (out.review_required) {
    out.task = NewTask(school, "rv_" + deps_.crypto.NewId(), cal, LocalDay(cal, now),
                       calendar::Term{kLawChangeReviewDays, calendar::TermUnit::kCalendarDays,
                                      true},
                       actor, now);
    out.task->reason = "law_change";
    out.task->law_change = change.description;
    out.task->law = change.law;
    batch.review_tasks.push_back(*out.task);
  }
  AuditEvent e;
  e.actor = actor.AuditName();
  e.role = actor.role;
  e.action = "policy.law_change";
  e.outcome = "ok";
  e.decision_id = out.id;
  e.request_id = ctx.request_id;
  e.detail = Json{{"law", change.law},
                  {"description", change.description},
                  {"review_required", out.review_required},
                  {"review_task", out.task ? Json(TaskRef(*out.task)) : Json(nullptr)}}
                 .dump();
  audit_.Add(batch, school, std::move(e));
  if (Status st = deps_.store.Commit(std::move(batch)); !st.ok()) return st.error();
  return out;
}

Result<int> ReviewService::MarkOverdue(const SchoolId& school, const RequestContext& ctx) {
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto cp = (*rt)->policy();
  std::lock_guard<std::mutex> lock(mu_);
  auto open = OpenTasks(school, *cp);
  if (!open.ok()) return open.error();
  const Timestamp now = deps_.clock.Now();
  const Actor job = Actor::System("deadlines");
  int marked = 0;
  for (auto& t : *open) {
    if (t.overdue_at || now <= t.due_at) continue;  // marked already, or still within its day
    t.overdue_at = now;
    ports::WriteBatch batch;
    batch.review_tasks.push_back(t);
    AuditEvent e;
    e.actor = job.AuditName();
    e.action = "policy.review.overdue";
    e.outcome = "ok";
    e.decision_id = t.id;
    e.request_id = ctx.request_id;
    e.detail = TaskRef(t).dump();
    audit_.Add(batch, school, std::move(e));
    if (Status st = StageAlert(batch, school, *cp, t); !st.ok()) return st.error();
    if (Status st = deps_.store.Commit(std::move(batch)); !st.ok()) return st.error();
    ++marked;
  }
  return marked;
}

// The responsible person is the policy's (officers.responsible_person, R04). A policy that gives
// no address for that person (003) leaves the alert to the staff member who set the task: who
// recorded the last review or the change in the law, while the account is active.
Status ReviewService::StageAlert(ports::WriteBatch& batch, const SchoolId& school,
                                 const domain::CompiledPolicy& cp,
                                 const ports::ReviewTaskRow& task) {
  if (outbox_ == nullptr) return Status::Ok();
  const policy::Policy& p = cp.policy();
  auto to = domain::NormaliseEmail(p.officers.responsible_person.email);
  if (!to && !task.assignee.empty()) {
    auto staff = deps_.store.GetStaff(school, StaffId(task.assignee));
    if (!staff.ok()) return staff.error();
    if (*staff && !(*staff)->left_at) to = domain::NormaliseEmail((*staff)->email);
  }
  if (!to) return Status::Ok();
  const std::string lang = MessageLang(p.school.authoritative_language);
  // After a change in the law, the letter names the law when the change named one.
  const std::string kind = task.reason != "law_change" ? "review_overdue"
                           : task.law.empty()          ? "review_law_overdue_unnamed"
                                                       : "review_law_overdue";
  OutMessage msg = Letter(kind, lang, *to,
                          {{"due", LetterDayText(task.due_date, lang)},
                           {"change", task.law_change},
                           {"law", task.law}});
  auto added = outbox_->Add(batch, school, msg);
  if (!added.ok()) return added.error();
  return Status::Ok();
}

}  // namespace dovira::services
