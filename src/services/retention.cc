#include "services/retention.h"

#include <algorithm>
#include <chrono>
#include <set>

#include <nlohmann/json.hpp>

#include "calendar/calendar.h"
#include "domain/consent_ledger.h"
#include "i18n/i18n.h"
#include "services/request_texts.h"

namespace dovira::services {

namespace {

using Json = nlohmann::json;
using std::chrono::floor;
using std::chrono::seconds;
using std::chrono::sys_seconds;

constexpr char kAgreementEnd[] = "agreement_end";
constexpr char kLastUse[] = "last_use";
constexpr char kPurposeEndPrefix[] = "purpose_end:";
constexpr char kLegalMinimumPrefix[] = "legal_minimum:";
constexpr char kStopPrefix[] = "stop:";

sys_seconds Seconds(Timestamp t) { return floor<seconds>(t); }
Timestamp FromSeconds(sys_seconds s) { return Timestamp(s.time_since_epoch()); }

std::optional<Timestamp> EventAt(const RetentionFacts& f, const std::string& kind) {
  for (const auto& e : f.events) {
    if (e.kind == kind) return e.at;
  }
  return std::nullopt;
}

// The instant a term counted from `trigger` has run out: the trigger itself for "immediate",
// the exact instant for hours, else the first instant after the term's last day (a term of days,
// months or years keeps the data through its last day). nullopt for "indefinite".
std::optional<Timestamp> TermEnd(const calendar::Calendar& cal, Timestamp trigger,
                                 const calendar::Term& term) {
  if (term.unit == calendar::TermUnit::kIndefinite) return std::nullopt;
  if (term.unit == calendar::TermUnit::kImmediate || term.count == 0) return trigger;
  auto due = calendar::DueInstant(cal, Seconds(trigger), term);
  if (!due.ok()) return std::nullopt;
  if (term.unit == calendar::TermUnit::kHours) return FromSeconds(*due);
  return FromSeconds(*due + seconds(1));
}

struct Trigger {
  std::string name;
  Timestamp at{};
};

void Earliest(std::optional<Trigger>& best, const std::string& name, std::optional<Timestamp> at) {
  if (!at) return;
  if (!best || *at < best->at) best = Trigger{name, *at};
}

}  // namespace

std::vector<PurposeEnd> PlanPurposes(const domain::CompiledPolicy& cp,
                                     const RetentionFacts& facts) {
  const policy::Policy& p = cp.policy();
  const calendar::Calendar& cal = cp.calendar();
  // The consent window of each consent purpose (withdrawn or expired ones end).
  std::vector<domain::LedgerEntry> ledger;
  for (const auto& c : facts.consents) {
    ledger.push_back(domain::LedgerEntry{
        c.consent_type, c.grants, c.action == "withdraw", MicrosOf(c.at),
        c.expires_at ? MicrosOf(*c.expires_at) : domain::kForever});
  }
  const std::vector<domain::ConsentWindow> windows = domain::ConsentWindows(cp, ledger);
  const int kind = cp.SubjectKindIndex(facts.subject.kind);
  std::vector<PurposeEnd> out;
  for (size_t i = 0; i < cp.purpose_count(); ++i) {
    const domain::CompiledPurpose& c = cp.purpose(i);
    PurposeEnd e;
    e.purpose = c.id;
    const policy::Purpose* pp = p.FindPurpose(c.id);
    if (pp == nullptr || kind < 0 || !((c.subject_kinds >> kind) & 1)) {
      out.push_back(std::move(e));
      continue;
    }
    const domain::ConsentWindow* window = nullptr;
    for (const auto& w : windows) {
      if (w.purpose == i) window = &w;
    }
    const bool consent = c.basis == domain::Basis::kConsent;
    if (consent && window == nullptr) {  // never granted: not a purpose of this subject's data
      out.push_back(std::move(e));
      continue;
    }
    const std::string& from = pp->retention_from;
    // A purpose on another basis (a legal obligation, a legitimate interest) with no term and no
    // event of its own stated uses the data while another purpose keeps them; it keeps none on
    // its own. Keeping data for a legal need is a legal minimum (R72) or a legal hold (R50).
    const bool contract =
        c.basis == domain::Basis::kContract || c.basis == domain::Basis::kPreContract;
    if (!consent && !contract && !pp->retention && from == "purpose_end") {
      out.push_back(std::move(e));
      continue;
    }
    e.applies = true;
    std::optional<Timestamp> consent_end;
    std::string consent_trigger;
    if (window != nullptr && window->until_us != domain::kForever) {
      consent_end = Timestamp(std::chrono::microseconds(window->until_us));
      consent_trigger = window->withdrawn ? "consent_withdrawn" : "consent_expired";
    }
    const std::optional<Timestamp> own_end = EventAt(facts, kPurposeEndPrefix + c.id);
    std::optional<Trigger> trigger;
    calendar::Term term = pp->retention.value_or(
        calendar::Term{0, calendar::TermUnit::kImmediate, true});
    if (from == "collection") {
      Earliest(trigger, "collection", facts.subject.created_at);
    } else if (from == kAgreementEnd) {
      Earliest(trigger, kAgreementEnd, EventAt(facts, kAgreementEnd));
    } else if (from == "end_of_use") {
      // The last use, at the latest the collection, plus the inactivity that ends the use (R71).
      Timestamp last = facts.subject.created_at;
      if (auto used = EventAt(facts, kLastUse); used && *used > last) last = *used;
      if (p.retention.end_of_use_inactivity) {
        Earliest(trigger, "end_of_use", TermEnd(cal, last, *p.retention.end_of_use_inactivity));
      }
    } else if (from == "withdrawal") {
      Earliest(trigger, consent_trigger, consent_end);
    } else if (from == "purpose_end") {
      if (consent) Earliest(trigger, consent_trigger, consent_end);
      if (contract) Earliest(trigger, kAgreementEnd, EventAt(facts, kAgreementEnd));
    }
    // verification_decision and the other bases: only an explicit end of the purpose.
    Earliest(trigger, "purpose_end", own_end);
    // A consent purpose cannot outlive its consent (R21): the end of the consent ends it too.
    if (consent) Earliest(trigger, consent_trigger, consent_end);
    if (trigger) {
      e.trigger = trigger->name;
      e.trigger_at = trigger->at;
      e.stops_at = trigger->at;
      e.ends_at = TermEnd(cal, trigger->at, term);
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::string ExplainRetention(const domain::CompiledPolicy& cp, const RetentionItem& item,
                             const std::string& lang) {
  const policy::Policy& p = cp.policy();
  const i18n::Lang l = i18n::ParseLang(lang).value_or(i18n::Lang::kUk);
  const std::string& auth = p.school.authoritative_language;
  std::string field = item.field;
  if (const policy::Field* f = p.FindField(item.field)) field = f->title.Get(lang, auth);
  std::string purpose = item.purpose;
  if (const policy::Purpose* pp = p.FindPurpose(item.purpose)) purpose = pp->title.Get(lang, auth);
  std::string trigger_key = "retention.trigger." + item.trigger;
  const std::string trigger = i18n::Find(l, trigger_key) != nullptr
                                  ? i18n::Text(l, trigger_key)
                                  : i18n::Text(l, "retention.trigger.purpose_end");
  i18n::Args args{{"field", field}, {"purpose", purpose}, {"trigger", trigger}};
  if (item.action == "keep") {
    if (item.kept_until.empty()) return i18n::Text(l, "retention.keep.forever", args);
    std::string law;
    for (const auto& x : p.laws) {
      if (x.id == item.law) law = i18n::Text(l, "retention.law", {{"law", x.title.Get(lang, auth)}});
    }
    args.push_back({"until", LetterDayText(item.kept_until, lang)});
    args.push_back({"law", law});
    return i18n::Text(l, "retention.keep", args);
  }
  if (item.action == "skip_legal_claims") return i18n::Text(l, "retention.skip_legal_claims", args);
  args.push_back({"date", LetterDayText(item.due_date, lang)});
  return i18n::Text(l, item.action == "anonymise" ? "retention.anonymise" : "retention.destroy",
                    args);
}

std::vector<LegalMinimumKeep> LegalMinimumsInForce(const domain::CompiledPolicy& cp,
                                                   const RetentionFacts& facts,
                                                   const std::vector<ports::RecordRow>& records,
                                                   Timestamp now) {
  std::vector<LegalMinimumKeep> out;
  const policy::Policy& p = cp.policy();
  if (p.retention.legal_minimum.empty()) return out;
  const calendar::Calendar& cal = cp.calendar();
  const std::vector<PurposeEnd> ends = PlanPurposes(cp, facts);
  std::set<std::string> seen;
  for (const auto& rec : records) {
    if (!seen.insert(rec.field).second) continue;
    const int fi = cp.FieldIndex(rec.field);
    if (fi < 0) continue;
    // The trigger the minimum runs from: a purpose still running stops with the erasure.
    std::optional<Timestamp> from;
    for (size_t i = 0; i < ends.size(); ++i) {
      const PurposeEnd& e = ends[i];
      if (!e.applies || !cp.purpose(i).fields.Test(static_cast<size_t>(fi))) continue;
      const Timestamp t = (e.stops_at && *e.stops_at <= now) ? std::min(e.trigger_at, now) : now;
      if (!from || t > *from) from = t;
    }
    if (!from) from = now;  // collected for no purpose of this subject: counted from now
    std::optional<Timestamp> longest;
    const policy::LegalMinimum* which = nullptr;
    for (const auto& lm : p.retention.legal_minimum) {
      if (lm.category != rec.category) continue;
      auto kept = TermEnd(cal, *from, lm.term);
      if (!kept) continue;
      if (!longest || *kept > *longest) {
        longest = kept;
        which = &lm;
      }
    }
    if (which == nullptr || *longest <= now) continue;
    LegalMinimumKeep k;
    k.field = rec.field;
    k.category = rec.category;
    k.law = which->law;
    k.clause = which->clause;
    // TermEnd is the first instant after the term's last day (or the exact hour): the last day
    // kept is the local day before it.
    k.until = calendar::FormatDate(cal.LocalDate(Seconds(*longest - std::chrono::seconds(1))));
    out.push_back(std::move(k));
  }
  return out;
}

RetentionService::RetentionService(Deps deps, Schools& schools, SubjectService& subjects,
                                   AuditLog& audit, DisclosureService& disclosures)
    : deps_(deps), schools_(schools), subjects_(subjects), audit_(audit),
      disclosures_(disclosures) {}

bool RetentionService::IsEventKind(const std::string& kind) {
  return kind == kAgreementEnd || kind == kLastUse || kind.rfind(kPurposeEndPrefix, 0) == 0;
}

std::mutex& RetentionService::SchoolMutex(const SchoolId& school) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& m = school_mu_[school];
  if (!m) m = std::make_unique<std::mutex>();
  return *m;
}

Result<std::optional<StoredRetentionFacts>> LoadRetentionFacts(ports::Store& store,
                                                                const SchoolId& school,
                                                                const SubjectId& subject) {
  auto row = store.GetSubject(school, subject);
  if (!row.ok()) return row.error();
  if (!*row) return std::optional<StoredRetentionFacts>();
  StoredRetentionFacts out;
  out.facts.subject = std::move(**row);
  auto consents = store.GetConsents(school, subject);
  if (!consents.ok()) return consents.error();
  out.facts.consents = std::move(*consents);
  auto events = store.GetSubjectEvents(school, subject);
  if (!events.ok()) return events.error();
  out.facts.events = std::move(*events);
  auto records = store.GetRecords(school, subject);
  if (!records.ok()) return records.error();
  out.records = std::move(*records);
  return std::optional<StoredRetentionFacts>(std::move(out));
}

Result<std::optional<RetentionService::SubjectPlan>> RetentionService::PlanSubject(
    const SchoolId& school, const domain::CompiledPolicy& cp, const SubjectId& subject,
    Timestamp at) {
  auto stored = LoadRetentionFacts(deps_.store, school, subject);
  if (!stored.ok()) return stored.error();
  if (!*stored) return std::optional<SubjectPlan>();
  const RetentionFacts& facts = (*stored)->facts;

  SubjectPlan plan;
  plan.ends = PlanPurposes(cp, facts);
  plan.records = std::move((*stored)->records);
  const calendar::Calendar& cal = cp.calendar();
  const policy::Policy& p = cp.policy();
  // R51: fields a restriction on the ground of legal claims keeps.
  std::set<std::string> claimed;
  ports::RequestFilter filter;
  filter.subject = subject.value();
  filter.type = "restriction";
  filter.limit = 1000;
  auto requests = deps_.store.ListRequests(school, filter);
  if (!requests.ok()) return requests.error();
  for (const auto& r : *requests) {
    const Json body = Json::parse(r.body, nullptr, false);
    if (!body.is_object() || body.value("ground", "").find("legal_claims") == std::string::npos) {
      continue;
    }
    if (body.value("restrict_all", false)) {
      for (const auto& rec : plan.records) claimed.insert(rec.field);
    }
    if (body.contains("restricted") && body["restricted"].is_array()) {
      for (const auto& f : body["restricted"]) {
        if (f.is_string()) claimed.insert(f.get<std::string>());
      }
    }
  }
  std::set<std::string> seen;
  for (const auto& rec : plan.records) {
    if (!seen.insert(rec.field).second) continue;
    const int fi = cp.FieldIndex(rec.field);
    if (fi < 0) continue;
    const PurposeEnd* last = nullptr;  // the stopped purpose whose term runs longest
    bool running = false;
    bool any = false;
    bool forever = false;
    for (size_t i = 0; i < plan.ends.size(); ++i) {
      const PurposeEnd& e = plan.ends[i];
      if (!e.applies || !cp.purpose(i).fields.Test(static_cast<size_t>(fi))) continue;
      any = true;
      if (!e.stops_at || *e.stops_at > at) {
        running = true;
        break;
      }
      if (!e.ends_at) forever = true;
      else if (last == nullptr || !last->ends_at || *e.ends_at > *last->ends_at) last = &e;
    }
    if (!any) continue;  // collected for no purpose of this subject: left to the officer
    if (running) {
      plan.staying.push_back(rec.field);
      continue;
    }
    if (last == nullptr) {  // only indefinite terms: kept restricted for good
      plan.staying.push_back(rec.field);
      continue;
    }
    RetentionItem item;
    item.subject = subject;
    item.field = rec.field;
    item.category = rec.category;
    item.purpose = last->purpose;
    item.trigger = last->trigger;
    item.trigger_at = last->trigger_at;
    Timestamp keep_until = *last->ends_at;
    for (const auto& lm : p.retention.legal_minimum) {
      if (lm.category != rec.category) continue;
      auto kept = TermEnd(cal, last->trigger_at, lm.term);
      if (kept && *kept >= keep_until) {
        keep_until = *kept;
        item.law = lm.law;
      }
    }
    item.due_at = keep_until;
    item.due_date = calendar::FormatDate(cal.LocalDate(Seconds(keep_until)));
    if (forever || keep_until > at) {
      item.action = "keep";
      if (!forever) {
        item.kept_until = calendar::FormatDate(cal.LocalDate(Seconds(keep_until)) - 1);
      }
    } else {
      item.law.clear();
      item.action = p.retention.after == "anonymise" ? "anonymise" : "destroy";
      if (claimed.count(rec.field) != 0) item.action = "skip_legal_claims";
    }
    plan.items.push_back(std::move(item));
  }
  return std::optional<SubjectPlan>(std::move(plan));
}

std::vector<ports::RetentionDueRow> RetentionService::Rows(const SchoolId& school,
                                                         const domain::CompiledPolicy& cp,
                                                         const SubjectId& subject,
                                                         const SubjectPlan& plan) const {
  const calendar::Calendar& cal = cp.calendar();
  std::vector<ports::RetentionDueRow> rows;
  auto row = [&](const std::string& purpose, Timestamp due, const PurposeEnd& e) {
    ports::RetentionDueRow r;
    r.school = school;
    r.subject = subject;
    r.purpose = purpose;
    r.due_at = due;
    r.due_date = calendar::FormatDate(cal.LocalDate(Seconds(due)));
    r.trigger = e.trigger;
    r.trigger_at = e.trigger_at;
    rows.push_back(std::move(r));
  };
  for (const auto& e : plan.ends) {
    if (!e.applies || !e.stops_at) continue;
    // The stop (the gate refuses the purpose from then on), and the end of its term.
    if (!e.ends_at || *e.ends_at != *e.stops_at) row(kStopPrefix + e.purpose, *e.stops_at, e);
    if (e.ends_at) row(e.purpose, *e.ends_at, e);
  }
  // A legal minimum brings the subject back on the day it passes (R72).
  const policy::Policy& p = cp.policy();
  std::set<std::string> categories;
  for (const auto& rec : plan.records) categories.insert(rec.category);
  for (const auto& lm : p.retention.legal_minimum) {
    if (categories.count(lm.category) == 0) continue;
    std::optional<Timestamp> trigger;
    std::string name;
    for (const auto& rec : plan.records) {
      if (rec.category != lm.category) continue;
      const int fi = cp.FieldIndex(rec.field);
      if (fi < 0) continue;
      for (size_t i = 0; i < plan.ends.size(); ++i) {
        const PurposeEnd& e = plan.ends[i];
        if (!e.applies || !e.stops_at || !cp.purpose(i).fields.Test(static_cast<size_t>(fi))) {
          continue;
        }
        if (!trigger || e.trigger_at > *trigger) {
          trigger = e.trigger_at;
          name = e.trigger;
        }
      }
    }
    if (!trigger) continue;
    auto kept = TermEnd(cal, *trigger, lm.term);
    if (!kept) continue;
    ports::RetentionDueRow r;
    r.school = school;
    r.subject = subject;
    r.purpose = kLegalMinimumPrefix + lm.category;
    r.due_at = *kept;
    r.due_date = calendar::FormatDate(cal.LocalDate(Seconds(*kept)));
    r.trigger = name;
    r.trigger_at = *trigger;
    rows.push_back(std::move(r));
  }
  return rows;
}

Status RetentionService::StageRefresh(ports::WriteBatch& batch, const SchoolId& school,
                                      const domain::CompiledPolicy& cp, const SubjectId& subject,
                                      const SubjectPlan& plan, domain::PurposeSet* ended) {
  auto existing = deps_.store.SubjectRetention(school, subject);
  if (!existing.ok()) return existing.error();
  std::vector<ports::RetentionDueRow> rows = Rows(school, cp, subject, plan);
  std::set<std::string> wanted;
  for (auto& r : rows) {
    wanted.insert(r.purpose);
    for (const auto& old : *existing) {
      // An ended row stays ended while its instant is unchanged (the job acted on it).
      if (old.purpose == r.purpose && old.state == "ended" && old.due_at == r.due_at) {
        r.state = "ended";
      }
    }
  }
  for (const auto& old : *existing) {
    if (wanted.count(old.purpose) == 0) batch.deleted_retention_due.push_back(old);
  }
  if (ended != nullptr) {
    // The purposes the job has ended for the subject once the batch commits: a later event (a
    // new use, a moved agreement end) may have reopened one.
    *ended = 0;
    for (const auto& r : rows) {
      if (r.state != "ended") continue;
      std::string purpose = r.purpose;
      if (purpose.rfind(kStopPrefix, 0) == 0) purpose = purpose.substr(sizeof(kStopPrefix) - 1);
      const int p = cp.PurposeIndex(purpose);
      if (p >= 0) *ended |= domain::PurposeSet{1} << p;
    }
  }
  for (auto& r : rows) {
    const bool same = std::any_of(existing->begin(), existing->end(), [&](const auto& old) {
      return old.purpose == r.purpose && old.due_at == r.due_at && old.state == r.state &&
             old.trigger == r.trigger && old.trigger_at == r.trigger_at;
    });
    if (!same) batch.retention_due.push_back(std::move(r));
  }
  return Status::Ok();
}

Status RetentionService::Refresh(const SchoolId& school, const SubjectId& subject) {
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto cp = (*rt)->policy();
  auto plan = PlanSubject(school, *cp, subject, deps_.clock.Now());
  if (!plan.ok()) return plan.error();
  if (!*plan) return Error::NotFound("no such subject", "subject");
  ports::WriteBatch batch;
  domain::PurposeSet ended = 0;
  if (Status st = StageRefresh(batch, school, *cp, subject, **plan, &ended); !st.ok()) return st;
  if (batch.empty()) return Status::Ok();
  if (Status st = deps_.store.Commit(std::move(batch)); !st.ok()) return st;
  SyncGate(**rt, subject, ended);
  return Status::Ok();
}

void RetentionService::SyncGate(SchoolRuntime& rt, const SubjectId& subject,
                                domain::PurposeSet ended) {
  rt.gate().Update(subject, [&](domain::SubjectState& s) { s.retention_ended = ended; });
}

Status RetentionService::RecordEvent(const SchoolId& school, const SubjectId& subject,
                                     const std::string& kind, Timestamp at, const Actor& actor,
                                     const RequestContext& ctx) {
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto cp = (*rt)->policy();
  if (!IsEventKind(kind)) {
    Error e = Error::Invalid("kind must be agreement_end, last_use or purpose_end:<purpose>",
                             "kind");
    e.reason = "event_kind_unknown";
    return e;
  }
  if (kind.rfind(kPurposeEndPrefix, 0) == 0 &&
      cp->PurposeIndex(kind.substr(sizeof(kPurposeEndPrefix) - 1)) < 0) {
    Error e = Error::Invalid(
        "the policy declares no purpose " + kind.substr(sizeof(kPurposeEndPrefix) - 1), "kind");
    e.reason = "event_purpose_unknown";
    return e;
  }
  const Timestamp now = deps_.clock.Now();
  // An agreement's end or a purpose's end may be known ahead (a contract's last day); a use may not.
  if (kind == kLastUse && at > now) {
    Error e = Error::Invalid("a last use cannot be in the future", "at");
    e.reason = "last_use_in_future";
    return e;
  }
  std::lock_guard<std::mutex> lock(SchoolMutex(school));
  auto row = deps_.store.GetSubject(school, subject);
  if (!row.ok()) return row.error();
  if (!*row) return Error::NotFound("no such subject", "subject");
  auto events = deps_.store.GetSubjectEvents(school, subject);
  if (!events.ok()) return events.error();
  for (const auto& e : *events) {
    if (e.kind == kind && kind == kLastUse && e.at >= at) return Status::Ok();
  }
  ports::WriteBatch batch;
  batch.subject_events.push_back(
      ports::SubjectEventRow{school, subject, kind, at, actor.AuditName(), now});
  // The plan as it will be once the event is stored.
  auto plan = PlanSubject(school, *cp, subject, now);
  if (!plan.ok()) return plan.error();
  if (!*plan) return Error::NotFound("no such subject", "subject");
  {
    // PlanSubject read the events before this one: plan again with it in place.
    RetentionFacts facts;
    facts.subject = **row;
    auto consents = deps_.store.GetConsents(school, subject);
    if (!consents.ok()) return consents.error();
    facts.consents = std::move(*consents);
    facts.events = std::move(*events);
    facts.events.erase(std::remove_if(facts.events.begin(), facts.events.end(),
                                      [&](const auto& e) { return e.kind == kind; }),
                       facts.events.end());
    facts.events.push_back(batch.subject_events.back());
    (*plan)->ends = PlanPurposes(*cp, facts);
  }
  domain::PurposeSet ended = 0;
  if (Status st = StageRefresh(batch, school, *cp, subject, **plan, &ended); !st.ok()) return st;
  AuditEvent a;
  a.actor = actor.AuditName();
  a.role = actor.role;
  a.action = "retention.event";
  auto pseudonym = audit_.Pseudonym(school, subject);
  if (pseudonym.ok()) a.subject_ref = *pseudonym;
  a.outcome = "ok";
  a.reason = kind;
  a.request_id = ctx.request_id;
  a.detail = "{\"kind\":" + JsonQuote(kind) + ",\"at\":" + JsonQuote(FormatTimestamp(at)) + "}";
  audit_.Add(batch, school, std::move(a));
  if (Status st = deps_.store.Commit(std::move(batch)); !st.ok()) return st;
  SyncGate(**rt, subject, ended);
  return Status::Ok();
}

Status RetentionService::CatchUp(const SchoolId& school) {
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto cp = (*rt)->policy();
  const Timestamp now = deps_.clock.Now();
  auto mark = deps_.store.GetRetentionMark(school);
  if (!mark.ok()) return mark.error();
  // A write stamped just before the last pass may have committed after it: look a little back.
  const Timestamp since = *mark ? **mark - std::chrono::minutes(5) : Timestamp{};
  auto changed = deps_.store.SubjectsChangedBetween(school, since, now);
  if (!changed.ok()) return changed.error();
  constexpr size_t kPerBatch = 256;
  for (size_t i = 0; i < changed->size(); i += kPerBatch) {
    ports::WriteBatch batch;
    std::vector<std::pair<SubjectId, domain::PurposeSet>> gates;
    for (size_t j = i; j < std::min(changed->size(), i + kPerBatch); ++j) {
      const SubjectId& subject = (*changed)[j];
      auto plan = PlanSubject(school, *cp, subject, now);
      if (!plan.ok()) return plan.error();
      if (!*plan) continue;
      domain::PurposeSet ended = 0;
      if (Status st = StageRefresh(batch, school, *cp, subject, **plan, &ended); !st.ok()) {
        return st;
      }
      gates.emplace_back(subject, ended);
    }
    if (!batch.empty()) {
      if (Status st = deps_.store.Commit(std::move(batch)); !st.ok()) return st;
    }
    for (const auto& [subject, ended] : gates) SyncGate(**rt, subject, ended);
  }
  ports::WriteBatch batch;
  batch.retention_marks.emplace_back(school, now);
  return deps_.store.Commit(std::move(batch));
}

Result<std::vector<RetentionItem>> RetentionService::Upcoming(const SchoolId& school,
                                                               const std::string& until) {
  auto day = calendar::ParseDate(until);
  if (!day.ok()) return Error::Invalid(day.error().message, "until");
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto cp = (*rt)->policy();
  // The plan as of the end of `until`: what the runs up to that day will have done. A preview
  // only reads: the subjects changed since the job's last pass (whose rows of the index may be
  // stale) are planned from their records, every other one from the index.
  const Timestamp horizon = FromSeconds(cp->calendar().EndOfDay(*day));
  std::vector<RetentionItem> out;
  std::set<SubjectId> planned;
  auto mark = deps_.store.GetRetentionMark(school);
  if (!mark.ok()) return mark.error();
  const Timestamp since = *mark ? **mark - std::chrono::minutes(5) : Timestamp{};
  auto changed = deps_.store.SubjectsChangedBetween(school, since, deps_.clock.Now());
  if (!changed.ok()) return changed.error();
  for (const SubjectId& subject : *changed) {
    if (!planned.insert(subject).second) continue;
    auto plan = PlanSubject(school, *cp, subject, horizon);
    if (!plan.ok()) return plan.error();
    if (!*plan) continue;
    for (auto& item : (*plan)->items) out.push_back(std::move(item));
  }
  std::string after_date, after_subject, after_purpose;
  for (;;) {
    auto due = deps_.store.DueRetention(school, until, after_date, after_subject, after_purpose,
                                        512);
    if (!due.ok()) return due.error();
    if (due->empty()) break;
    for (const auto& r : *due) {
      if (!planned.insert(r.subject).second) continue;
      auto plan = PlanSubject(school, *cp, r.subject, horizon);
      if (!plan.ok()) return plan.error();
      if (!*plan) continue;
      for (auto& item : (*plan)->items) out.push_back(std::move(item));
    }
    after_date = due->back().due_date;
    after_subject = due->back().subject.value();
    after_purpose = due->back().purpose;
  }
  std::sort(out.begin(), out.end(), [](const RetentionItem& a, const RetentionItem& b) {
    return std::tie(a.due_date, a.subject, a.field) < std::tie(b.due_date, b.subject, b.field);
  });
  return out;
}

Status RetentionService::LoadSubjectGate(SchoolRuntime& school, const SubjectId& subject,
                                         domain::SubjectState& state) {
  auto cp = school.policy();
  if (!cp) return Error::Unavailable("the school has no policy loaded");
  auto rows = deps_.store.SubjectRetention(school.id(), subject);
  if (!rows.ok()) return rows.error();
  state.retention_ended = 0;
  for (const auto& r : *rows) {
    if (r.state != "ended") continue;
    std::string purpose = r.purpose;
    if (purpose.rfind(kStopPrefix, 0) == 0) purpose = purpose.substr(sizeof(kStopPrefix) - 1);
    const int p = cp->PurposeIndex(purpose);
    if (p >= 0) state.retention_ended |= domain::PurposeSet{1} << p;
  }
  return Status::Ok();
}

Result<RetentionRunReport> RetentionService::Run(const SchoolId& school,
                                                 const RequestContext& ctx) {
  RetentionRunReport report;
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto cp = (*rt)->policy();
  if (Status st = CatchUp(school); !st.ok()) return st.error();
  const Timestamp now = deps_.clock.Now();
  const std::string today =
      calendar::FormatDate(cp->calendar().LocalDate(Seconds(now)));
  std::set<SubjectId> done;
  std::string after_date, after_subject, after_purpose;
  for (;;) {
    auto due = deps_.store.DueRetention(school, today, after_date, after_subject, after_purpose,
                                        512);
    if (!due.ok()) return due.error();
    if (due->empty()) break;
    for (const auto& r : *due) {
      if (r.due_at > now || !done.insert(r.subject).second) continue;
      ++report.subjects_checked;
      if (Status st = Act(school, *cp, **rt, r.subject, report, ctx); !st.ok()) {
        return st.error();
      }
    }
    after_date = due->back().due_date;
    after_subject = due->back().subject.value();
    after_purpose = due->back().purpose;
  }
  return report;
}

Status RetentionService::Act(const SchoolId& school, const domain::CompiledPolicy& cp,
                             SchoolRuntime& rt, const SubjectId& subject,
                             RetentionRunReport& report, const RequestContext& ctx) {
  std::lock_guard<std::mutex> lock(SchoolMutex(school));
  const Actor job = Actor::System("retention");
  const Timestamp now = deps_.clock.Now();
  auto planned = PlanSubject(school, cp, subject, now);
  if (!planned.ok()) return planned.error();
  if (!*planned) return Status::Ok();  // erased meanwhile
  SubjectPlan& plan = **planned;
  auto pseudonym = audit_.Pseudonym(school, subject);
  if (!pseudonym.ok()) return pseudonym.error();
  auto audit = [&](ports::WriteBatch& batch, const std::string& action,
                   const std::string& purpose, const std::vector<std::string>& fields,
                   const std::string& reason, const std::string& detail) {
    AuditEvent a;
    a.actor = job.AuditName();
    a.action = action;
    a.subject_ref = *pseudonym;
    a.purpose = purpose;
    a.fields = JoinIds(fields);
    a.outcome = "ok";
    a.reason = reason;
    a.request_id = ctx.request_id;
    a.detail = detail;
    audit_.Add(batch, school, std::move(a));
  };

  const std::string lang = cp.policy().school.authoritative_language.empty()
                               ? std::string("uk")
                               : cp.policy().school.authoritative_language;
  ports::WriteBatch batch;
  // The purposes whose retention has ended: the gate refuses them from now on.
  domain::PurposeSet ended = 0;
  auto existing = deps_.store.SubjectRetention(school, subject);
  if (!existing.ok()) return existing.error();
  for (size_t i = 0; i < plan.ends.size(); ++i) {
    const PurposeEnd& e = plan.ends[i];
    if (!e.applies || !e.stops_at || *e.stops_at > now) continue;
    ended |= domain::PurposeSet{1} << i;
    const bool already = std::any_of(existing->begin(), existing->end(), [&](const auto& r) {
      return (r.purpose == e.purpose || r.purpose == kStopPrefix + e.purpose) &&
             r.state == "ended" && r.trigger_at == e.trigger_at;
    });
    if (already) continue;
    ++report.purposes_ended;
    audit(batch, "retention.purpose_ended", e.purpose, {}, e.trigger,
          "{\"trigger\":" + JsonQuote(e.trigger) + ",\"trigger_at\":" +
              JsonQuote(FormatTimestamp(e.trigger_at)) + ",\"retention_ends_at\":" +
              (e.ends_at ? JsonQuote(FormatTimestamp(*e.ends_at)) : std::string("null")) + "}");
  }

  std::vector<std::string> destroy, anonymise;
  std::map<std::string, std::vector<std::string>> kept;  // law|until → fields
  std::vector<std::string> skipped;
  for (const auto& item : plan.items) {
    if (item.action == "destroy") destroy.push_back(item.field);
    else if (item.action == "anonymise") anonymise.push_back(item.field);
    else if (item.action == "keep") kept[item.law + "|" + item.kept_until].push_back(item.field);
    else skipped.push_back(item.field);
  }
  for (const auto& [key, fields] : kept) {
    const std::string law = key.substr(0, key.find('|'));
    const std::string until = key.substr(key.find('|') + 1);
    report.fields_kept += static_cast<int>(fields.size());
    audit(batch, "retention.keep", "", fields, law.empty() ? "retention_term" : "legal_minimum",
          "{\"law\":" + JsonQuote(law) + ",\"until\":" + JsonQuote(until) + "}");
  }
  if (!skipped.empty()) {
    report.fields_skipped += static_cast<int>(skipped.size());
    audit(batch, "retention.skip", "", skipped, "legal_claims_restriction",
          "{\"ground\":\"legal_claims\"}");
  }
  // Mark what was acted on. Rows not yet due stay pending, and so do those of the purposes a
  // skipped field ended with: the field is looked at again every day until its restriction goes.
  std::set<std::string> revisit;
  for (const auto& item : plan.items) {
    if (item.action == "skip_legal_claims") revisit.insert(item.purpose);
  }
  for (auto r : Rows(school, cp, subject, plan)) {
    if (r.due_at <= now && revisit.count(r.purpose) == 0) r.state = "ended";
    batch.retention_due.push_back(std::move(r));
  }

  const bool nothing_left = plan.staying.empty() && kept.empty() && skipped.empty() &&
                            anonymise.empty() && !destroy.empty();
  if (nothing_left) {
    // R70: the subject's last field goes: the erasure's path (key, rows, tombstone).
    auto notices = disclosures_.StageNotices(batch, school, subject, "erasure", {}, {}, "", lang);
    if (!notices.ok()) return notices.error();
    report.fields_destroyed += static_cast<int>(destroy.size());
    audit(batch, "retention.destroy", "", destroy, "retention_ended",
          "{\"after\":" + JsonQuote(cp.policy().retention.after) + ",\"subject_erased\":true}");
    batch.retention_due.clear();  // the subject's rows go with it
    Status st = subjects_.DestroySubject(school, subject, "retention_ended", job, ctx,
                                         std::move(batch));
    if (!st.ok()) return st;
    ++report.subjects_erased;
    return Status::Ok();
  }
  if (!destroy.empty()) {
    auto notices =
        disclosures_.StageNotices(batch, school, subject, "erasure", destroy, {}, "", lang);
    if (!notices.ok()) return notices.error();
    const std::set<std::string> gone(destroy.begin(), destroy.end());
    for (const auto& rec : plan.records) {
      if (gone.count(rec.field) != 0) batch.deleted_records.emplace_back(school, rec.id);
    }
    for (const auto& f : destroy) {
      batch.deleted_field_lookups.push_back(ports::LookupRow{school, f, "", subject});
    }
    report.fields_destroyed += static_cast<int>(destroy.size());
    audit(batch, "retention.destroy", "", destroy, "retention_ended",
          "{\"after\":" + JsonQuote(cp.policy().retention.after) + "}");
  }
  if (!anonymise.empty()) {
    auto key = subjects_.SubjectKey(school, subject);
    if (!key.ok()) return key.error();
    const std::set<std::string> gone(anonymise.begin(), anonymise.end());
    for (auto rec : plan.records) {
      if (gone.count(rec.field) == 0) continue;
      rec.sealed_value =
          subjects_.SealValue(*key, school, subject, rec.field, rec.id.value(), "");
      rec.updated_at = now;
      batch.records.push_back(std::move(rec));
    }
    for (const auto& f : anonymise) {
      batch.deleted_field_lookups.push_back(ports::LookupRow{school, f, "", subject});
    }
    report.fields_anonymised += static_cast<int>(anonymise.size());
    audit(batch, "retention.anonymise", "", anonymise, "retention_ended",
          "{\"after\":\"anonymise\"}");
  }
  if (Status st = deps_.store.Commit(std::move(batch)); !st.ok()) return st;
  subjects_.ForgetRecords(school, subject);
  rt.gate().Update(subject, [&](domain::SubjectState& s) { s.retention_ended |= ended; });
  return Status::Ok();
}

}  // namespace dovira::services
