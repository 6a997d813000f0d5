// The shared core of the request modules: the row (Load, Stage, Commit), the gate effects
// (RefreshGate, LoadSubjectGate), the letters (Notify, NotifyRecipients), closing, and the helpers
// of request_internal.h. Each right has its own module beside it (request_<right>.cc).
#include "services/requests.h"

#include <algorithm>

#include "services/request_internal.h"
#include "services/request_texts.h"

namespace dovira::services {
namespace request_internal {

// R61: a segment id as the decisions register and a contest_segment request name it.
Status ValidSegment(const std::string& segment) {
  if (segment.empty()) return Error::Invalid("segment is required: the segment contested", "segment");
  if (segment.size() > 64 ||
      !std::all_of(segment.begin(), segment.end(), [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
      })) {
    return Error::Invalid("segment must be 1-64 characters of a-z, 0-9 and _", "segment");
  }
  return Status::Ok();
}

Json OptTime(const std::optional<Timestamp>& t) {
  return t ? Json(MicrosOf(*t)) : Json(nullptr);
}
std::optional<Timestamp> ReadOptTime(const Json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  return Timestamp(std::chrono::microseconds(j[key].get<int64_t>()));
}
Timestamp ReadTime(const Json& j, const char* key) {
  return Timestamp(std::chrono::microseconds(j.value(key, int64_t{0})));
}

std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

std::string SealAad(const SchoolId& school, const std::string& id) {
  return "request|" + school.value() + "|" + id;
}

std::string Join(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : ", ") + id;
  return out;
}

Json ToBody(const RequestInfo& r) {
  Json ext = Json::array();
  for (const auto& e : r.extensions) {
    ext.push_back({{"reason", e.reason},
                   {"basis", e.basis},
                   {"previous_due", MicrosOf(e.previous_due)},
                   {"new_due", MicrosOf(e.new_due)}});
  }
  Json tasks = Json::array();
  for (const auto& t : r.tasks) {
    tasks.push_back({{"target", t.target},
                     {"action", t.action},
                     {"state", t.state},
                     {"at", OptTime(t.at)},
                     {"note", t.note}});
  }
  return Json{{"type", r.type},
              {"right", r.right},
              {"channel", r.channel},
              {"filed_by", r.filed_by},
              {"lang", r.lang},
              {"fields", r.fields},
              {"purposes", r.purposes},
              {"consents", r.consents},
              {"ground", r.ground},
              {"segment", r.segment},
              {"mode", r.mode},
              {"outcome", r.outcome},
              {"reason", r.reason},
              {"decision", r.decision},
              {"filed_at", MicrosOf(r.filed_at)},
              {"due_source", r.due_source},
              {"term", r.term},
              {"trigger", r.trigger},
              {"clause", r.clause},
              {"evidence_at", OptTime(r.evidence_at)},
              {"verified_at", OptTime(r.verified_at)},
              {"closed_at", OptTime(r.closed_at)},
              {"warned_half_at", OptTime(r.warned_half_at)},
              {"warned_four_fifths_at", OptTime(r.warned_four_fifths_at)},
              {"overdue_at", OptTime(r.overdue_at)},
              {"identity", r.identity},
              {"verification_method", r.verification_method},
              {"fee_may_apply", r.fee_may_apply},
              {"late_by_days", r.late_by_days},
              {"extensions", ext},
              {"tasks", tasks},
              {"blocked", r.blocked},
              {"restricted", r.restricted},
              {"restrict_all", r.restrict_all},
              {"objection_pending", r.objection_pending},
              {"objection_upheld", r.objection_upheld},
              {"kept", r.kept},
              {"deferred", r.deferred}};
}

void FromBody(const Json& b, RequestInfo& r) {
  auto list = [&](const char* k) { return b.value(k, std::vector<std::string>{}); };
  r.right = b.value("right", "");
  r.channel = b.value("channel", "");
  r.filed_by = b.value("filed_by", "");
  r.lang = b.value("lang", "");
  r.fields = list("fields");
  r.purposes = list("purposes");
  r.consents = list("consents");
  r.ground = b.value("ground", "");
  r.segment = b.value("segment", "");
  r.mode = b.value("mode", "");
  r.outcome = b.value("outcome", "");
  r.reason = b.value("reason", "");
  r.decision = b.value("decision", "");
  r.filed_at = ReadTime(b, "filed_at");
  r.due_source = b.value("due_source", "");
  r.term = b.value("term", "");
  r.trigger = b.value("trigger", "");
  r.clause = b.value("clause", "");
  r.evidence_at = ReadOptTime(b, "evidence_at");
  r.verified_at = ReadOptTime(b, "verified_at");
  r.closed_at = ReadOptTime(b, "closed_at");
  r.warned_half_at = ReadOptTime(b, "warned_half_at");
  r.warned_four_fifths_at = ReadOptTime(b, "warned_four_fifths_at");
  r.overdue_at = ReadOptTime(b, "overdue_at");
  r.identity = b.value("identity", "not_required");
  r.verification_method = b.value("verification_method", "");
  r.fee_may_apply = b.value("fee_may_apply", false);
  r.late_by_days = b.value("late_by_days", int64_t{0});
  for (const auto& e : b.value("extensions", Json::array())) {
    r.extensions.push_back(RequestInfo::Extension{e.value("reason", ""), e.value("basis", ""),
                                                  ReadTime(e, "previous_due"),
                                                  ReadTime(e, "new_due")});
  }
  for (const auto& t : b.value("tasks", Json::array())) {
    r.tasks.push_back(RequestTask{t.value("target", ""), t.value("action", ""),
                                  t.value("state", ""), ReadOptTime(t, "at"),
                                  t.value("note", "")});
  }
  r.blocked = list("blocked");
  r.restricted = list("restricted");
  r.restrict_all = b.value("restrict_all", false);
  r.objection_pending = list("objection_pending");
  r.objection_upheld = list("objection_upheld");
  r.kept = list("kept");
  r.deferred = list("deferred");
}

domain::RequestEffect EffectOf(const domain::CompiledPolicy& cp, const RequestInfo& r) {
  domain::RequestEffect e;
  for (const auto& f : r.blocked) {
    if (int i = cp.FieldIndex(f); i >= 0) e.blocked.Set(static_cast<size_t>(i));
  }
  for (const auto& f : r.restricted) {
    if (int i = cp.FieldIndex(f); i >= 0) e.restricted.Set(static_cast<size_t>(i));
  }
  e.restrict_all = r.restrict_all;
  for (const auto& p : r.objection_pending) {
    if (int i = cp.PurposeIndex(p); i >= 0) e.objection_pending |= domain::PurposeSet{1} << i;
  }
  for (const auto& p : r.objection_upheld) {
    if (int i = cp.PurposeIndex(p); i >= 0) e.objection_upheld |= domain::PurposeSet{1} << i;
  }
  // R62: an effective opt-out of automated decisions leaves the subject out of profiling runs.
  e.no_automated = r.right == "no_automated_decisions" && r.outcome == "effective";
  return e;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string DestinationHost(const std::string& url) {
  const size_t scheme = url.find("://");
  const size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  std::string authority = url.substr(start, url.find_first_of("/?#", start) - start);
  const size_t at = authority.rfind('@');
  return at == std::string::npos ? authority : authority.substr(at + 1);
}

std::string DestinationOrigin(const std::string& url) {
  const size_t scheme = url.find("://");
  const std::string host = DestinationHost(url);
  return scheme == std::string::npos ? host : url.substr(0, scheme + 3) + host;
}

Status MustBeOpen(const RequestInfo& r) {
  auto s = domain::ParseRequestState(r.state);
  if (!s || !domain::IsOpen(*s)) {
    return Error::Conflict("request_closed", "the request is already " + r.state);
  }
  return Status::Ok();
}

}  // namespace request_internal

using namespace request_internal;  // NOLINT(google-build-using-namespace)
using domain::RequestState;

RequestService::RequestService(Deps deps, Schools& schools, SubjectService& subjects,
                               ConsentService& consents, AuditLog& audit, Outbox& outbox,
                               DisclosureService& disclosures, LegalHoldService* holds)
    : deps_(deps),
      schools_(schools),
      subjects_(subjects),
      consents_(consents),
      audit_(audit),
      outbox_(outbox),
      disclosures_(disclosures),
      holds_(holds) {
  outbox_.SetSettledHook([this](const Outbox::Settled& m, ports::WriteBatch& batch) {
    return TransferSettled(m, batch);
  });
}

RequestService::~RequestService() { outbox_.SetSettledHook(nullptr); }

Status RequestService::NotifyRecipients(ports::WriteBatch& batch, const SchoolId& school,
                                        RequestInfo& r, const std::string& event,
                                        const std::vector<std::string>& fields,
                                        const std::map<std::string, std::string>& corrected,
                                        const Actor& actor, const RequestContext& ctx) {
  if (r.subject.empty()) return Status::Ok();
  auto notices = disclosures_.StageNotices(batch, school, SubjectId(r.subject), event, fields,
                                           corrected, r.id, r.lang);
  if (!notices.ok()) return notices.error();
  if (notices->empty()) return Status::Ok();  // nobody received those data
  const Timestamp now = deps_.clock.Now();
  Json list = Json::array();
  for (const auto& n : *notices) {
    list.push_back({{"recipient", n.recipient},
                    {"channel", n.channel.empty() ? Json(nullptr) : Json(n.channel)},
                    {"message", n.message_id.empty() ? Json(nullptr) : Json(n.message_id)},
                    {"fields", n.fields},
                    {"with_values", n.with_values}});
    // B03: a recipient without a configured contact stays a task for staff to confirm.
    RequestTask t{"recipient:" + n.recipient, "notify", "done", now,
                  "queued by " + n.channel + " (" + n.message_id + ")"};
    if (n.channel.empty()) {
      t.state = "pending";
      t.at.reset();
      t.note = "no contact configured for the recipient: notify it by other means and confirm";
    }
    auto it = std::find_if(r.tasks.begin(), r.tasks.end(),
                           [&](const RequestTask& x) { return x.target == t.target; });
    if (it == r.tasks.end()) {
      r.tasks.push_back(std::move(t));
    } else {
      *it = std::move(t);
    }
  }
  return Stage(batch, school, r, "recipients_notified",
               Dump({{"event", event}, {"recipients", list}}), actor, ctx);
}

std::mutex& RequestService::SchoolMutex(const SchoolId& school) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& m = school_mu_[school];
  if (!m) m = std::make_unique<std::mutex>();
  return *m;
}


// --- Rows --------------------------------------------------------------------------------------

Result<RequestInfo> RequestService::Load(const SchoolId& school, const std::string& id) {
  auto row = deps_.store.GetRequest(school, id);
  if (!row.ok()) return row.error();
  if (!*row) return Error{ErrorCode::kNotFound, "no such request", "request", "request_unknown"};
  const ports::RequestRow& r = **row;
  RequestInfo info;
  info.id = r.id;
  info.type = r.type;
  info.state = r.state;
  info.subject = r.subject;
  info.overdue = r.overdue;
  info.assignee = r.assignee;
  info.received_at = r.received_at;
  info.due_at = r.due_at;
  info.updated_at = r.updated_at;
  Json body = Json::parse(r.body, nullptr, false);
  if (body.is_discarded()) return Error{ErrorCode::kInternal, "request body is not JSON", "", ""};
  FromBody(body, info);
  if (!r.sealed.empty()) {
    auto plain = deps_.keys.OpenSecret(school, r.sealed, SealAad(school, r.id));
    if (!plain.ok()) return plain.error();
    Json s = Json::parse(*plain, nullptr, false);
    if (!s.is_discarded()) {
      info.reply_email = s.value("reply_email", "");
      info.requester_name = s.value("requester_name", "");
      info.statement = s.value("statement", "");
      info.code_hash = s.value("code_hash", "");
      info.code_attempts = s.value("code_attempts", 0);
      info.code_expires_at = ReadOptTime(s, "code_expires_at");
      info.destination_url = s.value("destination_url", "");
    }
  }
  auto sent = outbox_.ForRequest(school, id);
  if (sent.ok()) {
    for (const auto& m : *sent) {
      if (m.sent_at && (m.kind == "answer" || m.kind == "no_data" || m.kind == "rejected")) {
        info.answered_at = m.sent_at;
      }
    }
  }
  return info;
}

Status RequestService::Stage(ports::WriteBatch& batch, const SchoolId& school, RequestInfo& r,
                             const std::string& event, const std::string& detail,
                             const Actor& actor, const RequestContext& ctx,
                             const std::string& comment) {
  const Timestamp now = deps_.clock.Now();
  r.updated_at = now;
  ports::RequestRow row;
  row.school = school;
  row.id = r.id;
  row.type = r.type;
  row.state = r.state;
  row.subject = r.subject;
  auto state = domain::ParseRequestState(r.state);
  row.open = state && domain::IsOutstanding(*state);  // B03: partly done is still an obligation
  row.overdue = r.overdue;
  row.assignee = r.assignee;
  row.received_at = r.received_at;
  row.due_at = r.due_at;
  row.updated_at = now;
  row.body = Dump(ToBody(r));
  Json sealed = {{"reply_email", r.reply_email},
                 {"requester_name", r.requester_name},
                 {"statement", r.statement},
                 {"code_hash", r.code_hash},
                 {"code_attempts", r.code_attempts},
                 {"code_expires_at", OptTime(r.code_expires_at)},
                 {"destination_url", r.destination_url}};
  auto s = deps_.keys.SealSecret(school, Dump(sealed), SealAad(school, r.id));
  if (!s.ok()) return s.error();
  row.sealed = std::move(*s);
  // R88: what the request blocked or restricted before this step (as staged earlier in this
  // batch, else as stored; nothing for a new request), so that each change is audited below.
  RequestInfo before;
  std::string before_body;
  for (const auto& q : batch.requests) {
    if (q.school == school && q.id == r.id) before_body = q.body;
  }
  if (before_body.empty()) {
    auto stored = deps_.store.GetRequest(school, r.id);
    if (!stored.ok()) return stored.error();
    if (*stored) before_body = (*stored)->body;
  }
  if (!before_body.empty()) {
    Json b = Json::parse(before_body, nullptr, false);
    if (!b.is_discarded()) FromBody(b, before);
  }
  batch.requests.push_back(std::move(row));

  auto events = deps_.store.GetRequestEvents(school, r.id);
  if (!events.ok()) return events.error();
  int64_t seq = static_cast<int64_t>(events->size()) + 1;
  for (const auto& e : batch.request_events) {
    if (e.request == r.id) ++seq;
  }
  ports::RequestEventRow ev;
  ev.school = school;
  ev.request = r.id;
  ev.seq = seq;
  ev.at = now;
  ev.actor = actor.AuditName();
  ev.kind = event;
  ev.body = detail.empty() ? "{}" : detail;
  if (!comment.empty()) {
    auto sc = deps_.keys.SealSecret(school, comment,
                                    "request-event|" + school.value() + "|" + r.id + "|" +
                                        std::to_string(seq));
    if (!sc.ok()) return sc.error();
    ev.sealed = std::move(*sc);
  }
  batch.request_events.push_back(std::move(ev));

  AuditEvent a;
  a.actor = actor.AuditName();
  a.role = actor.role;
  a.action = "request." + event;
  if (!r.subject.empty()) {
    auto pseudonym = audit_.Pseudonym(school, SubjectId(r.subject));
    if (pseudonym.ok()) a.subject_ref = *pseudonym;
  }
  a.fields = JoinIds(r.fields);
  a.outcome = "ok";
  a.reason = r.type;
  a.decision_id = r.id;
  a.request_id = ctx.request_id;
  a.detail = ev.body;
  audit_.Add(batch, school, std::move(a));
  return StageEffectAudit(batch, school, before, r, actor, ctx);
}

Status RequestService::StageEffectAudit(ports::WriteBatch& batch, const SchoolId& school,
                                        const RequestInfo& before, const RequestInfo& r,
                                        const Actor& actor, const RequestContext& ctx) {
  if (r.subject.empty()) return Status::Ok();
  auto minus = [](const std::vector<std::string>& a, const std::vector<std::string>& b) {
    std::vector<std::string> out;
    for (const auto& x : a) {
      if (!Contains(b, x)) out.push_back(x);
    }
    return out;
  };
  auto add = [&](const std::string& action, const std::vector<std::string>& fields, bool all) {
    AuditEvent a;
    a.actor = actor.AuditName();
    a.role = actor.role;
    a.action = action;
    auto pseudonym = audit_.Pseudonym(school, SubjectId(r.subject));
    if (pseudonym.ok()) a.subject_ref = *pseudonym;
    a.fields = JoinIds(fields);
    a.outcome = "ok";
    a.reason = r.type;
    a.decision_id = r.id;
    a.request_id = ctx.request_id;
    a.detail = Dump({{"all_fields", all}});
    audit_.Add(batch, school, std::move(a));
  };
  if (auto set = minus(r.blocked, before.blocked); !set.empty()) add("block", set, false);
  if (auto gone = minus(before.blocked, r.blocked); !gone.empty()) add("block.lift", gone, false);
  if (r.restrict_all && !before.restrict_all) add("restrict", {}, true);
  if (auto set = minus(r.restricted, before.restricted); !set.empty()) add("restrict", set, false);
  if (before.restrict_all && !r.restrict_all) add("restrict.lift", {}, true);
  if (auto gone = minus(before.restricted, r.restricted); !gone.empty()) {
    add("restrict.lift", gone, false);
  }
  return Status::Ok();
}

Status RequestService::Commit(const SchoolId& school, RequestInfo& r, ports::WriteBatch batch) {
  Status st = deps_.store.Commit(std::move(batch));
  if (!st.ok()) return st;
  if (!r.subject.empty()) {
    auto rt = schools_.Get(school);
    if (rt.ok()) RefreshGate(**rt, r);
  }
  return Status::Ok();
}

void RequestService::RefreshGate(SchoolRuntime& school, const RequestInfo& r) {
  auto cp = school.policy();
  const std::string key = school.id().value() + "|" + r.subject;
  std::vector<domain::RequestEffect> all;
  {
    std::lock_guard<std::mutex> lock(effects_mu_);
    auto& per = effects_[key];
    domain::RequestEffect e = EffectOf(*cp, r);
    if (e.Empty()) {
      per.erase(r.id);
    } else {
      per[r.id] = e;
    }
    for (const auto& [id, eff] : per) all.push_back(eff);
    if (per.empty()) effects_.erase(key);
  }
  // A subject the gate does not hold is loaded with its requests' effects on its next use.
  school.gate().Update(SubjectId(r.subject), [&](domain::SubjectState& s) {
    domain::ApplyEffects(all, cp->purpose_count(), s);
  });
}

std::optional<RequestInfo> RequestService::WithEffects(const ports::RequestRow& row) {
  if (row.subject.empty()) return std::nullopt;
  Json body = Json::parse(row.body, nullptr, false);
  if (body.is_discarded()) return std::nullopt;
  RequestInfo r;
  r.id = row.id;
  r.subject = row.subject;
  FromBody(body, r);
  if (!r.blocked.empty() || !r.restricted.empty() || r.restrict_all ||
      !r.objection_pending.empty() || !r.objection_upheld.empty() ||
      (r.right == "no_automated_decisions" && r.outcome == "effective")) {
    return r;
  }
  return std::nullopt;
}

Status RequestService::LoadSubjectGate(SchoolRuntime& school, const SubjectId& subject,
                                       domain::SubjectState& state) {
  auto cp = school.policy();
  if (!cp) return Error::Unavailable("the school has no policy loaded");
  std::map<std::string, domain::RequestEffect> per;
  ports::RequestFilter filter;
  filter.subject = subject.value();
  filter.limit = 500;
  for (;;) {
    auto page = deps_.store.ListRequests(school.id(), filter);
    if (!page.ok()) return page.error();
    for (const auto& row : *page) {
      if (auto r = WithEffects(row)) {
        domain::RequestEffect e = EffectOf(*cp, *r);
        if (!e.Empty()) per[r->id] = e;
      }
    }
    if (page->size() < filter.limit) break;
    filter.after_due = page->back().due_at;
    filter.after_id = page->back().id;
  }
  std::vector<domain::RequestEffect> all;
  for (const auto& [id, e] : per) all.push_back(e);
  {
    std::lock_guard<std::mutex> lock(effects_mu_);
    const std::string key = school.id().value() + "|" + subject.value();
    if (per.empty()) {
      effects_.erase(key);
    } else {
      effects_[key] = std::move(per);
    }
  }
  domain::ApplyEffects(all, cp->purpose_count(), state);
  return Status::Ok();
}

// --- Messages ----------------------------------------------------------------------------------

Status RequestService::Notify(ports::WriteBatch& batch, const SchoolId& school,
                              const RequestInfo& r, const std::string& kind,
                              const std::string& extra,
                              std::vector<ports::MailAttachment> attachments) {
  if (r.reply_email.empty()) return Status::Ok();  // nowhere to write: the answer is in the API
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto cp = (*rt)->policy();
  const auto& cal = cp->calendar();
  const std::string lang = MessageLang(r.lang);
  // Dates as a person writes them, in the letter's language and the school's time zone.
  auto local = [&](Timestamp t) { return LetterDate(cal, t, lang); };
  std::map<std::string, std::string> vars = {
      {"id", r.id},
      {"type", RequestTypeName(r.type, lang)},
      {"received", LetterDateTime(cal, r.received_at, lang)},
      {"due", local(r.due_at)},
      {"closed", local(r.closed_at.value_or(deps_.clock.Now()))},
      {"reason", r.reason},
      {"extra", extra},
      {"destination", DestinationOrigin(r.destination_url)},
      {"fields", FieldTitles(cp->policy(), r.fields, lang)},
      {"purposes", PurposeTitles(cp->policy(), r.purposes, lang)},
      {"decision", r.decision},
      {"performed", local(deps_.clock.Now())},
      {"segment", r.segment},
  };
  if (kind == "segment_decided" && (r.decision == "removed" || r.decision == "kept")) {
    vars["decision"] = LetterText("segment_decision." + r.decision, lang);  // R61, in words
  }
  {
    // R47: what was done, in words ("{action} on {performed}"): "suspend" before its right.
    std::string action = "rectification";
    for (const std::string* t : {&r.type, &r.right}) {
      if (*t == "rectification" || *t == "erasure" || *t == "restriction" || *t == "suspend") {
        action = *t;
        break;
      }
    }
    vars["action"] = LetterText("action." + action, lang);
    if (r.fields.empty() && r.restrict_all) vars["fields"] = LetterText("all_data", lang);
  }
  if (kind == "rejected") {
    // R64: the right to complain, to the EU authority for an EU/EEA subject, otherwise to the
    // authority the policy names for the school's jurisdiction; when it names none, the letter
    // says so rather than naming another country's authority. Always in the letter's language.
    const policy::Policy& p = cp->policy();
    const std::string& jurisdiction = p.school.jurisdiction;
    bool eu_subject = false;
    if (!r.subject.empty()) {
      auto summary = subjects_.Get(school, SubjectId(r.subject), Actor::System("requests"), {});
      eu_subject = summary.ok() && domain::InEuOverlay(p.eu_overlay, summary->country,
                                                       summary->citizenship);
    }
    auto it = p.complaint_authorities.end();
    if (eu_subject) it = p.complaint_authorities.find("EU");
    if (it == p.complaint_authorities.end()) it = p.complaint_authorities.find(jurisdiction);
    std::string name;
    if (it != p.complaint_authorities.end()) {
      name = it->second.name.Get(lang);
      if (!it->second.url.empty()) name += " " + it->second.url;
    } else {
      name = LetterText("complaint_authority_unknown", lang, {{"jurisdiction", jurisdiction}});
    }
    vars["complaint"] = LetterText("complaint", lang, {{"authority", name}});
  }
  OutMessage m = Letter(kind, lang, r.reply_email, vars);
  m.request = r.id;
  m.attachments = std::move(attachments);
  const policy::Policy& p = cp->policy();
  if (kind == "action_notice" && p.action_notice.declared && p.action_notice.deadline.term) {
    auto due = domain::DueAt(cal, deps_.clock.Now(), *p.action_notice.deadline.term);
    if (due.ok()) m.due = *due;  // R47: counted from the day the action was performed (R66)
  }
  auto id = outbox_.Add(batch, school, m);
  if (!id.ok()) return id.error();
  return Status::Ok();
}


Result<RequestInfo> RequestService::Close(const SchoolId& school, RequestInfo r,
                                          RequestState state, const std::string& outcome,
                                          const std::string& detail, const Actor& actor,
                                          const RequestContext& ctx, ports::WriteBatch batch) {
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto cp = (*rt)->policy();
  const Timestamp now = deps_.clock.Now();
  // B03: done only when every store and recipient confirmed.
  bool all_confirmed = true;
  for (const auto& t : r.tasks) all_confirmed = all_confirmed && t.state == "done";
  if (state == RequestState::kDone && !all_confirmed) state = RequestState::kPartlyDone;
  r.state = domain::RequestStateName(state);
  r.outcome = outcome;
  r.closed_at = now;
  r.late_by_days = domain::LateByDays(cp->calendar(), r.due_at, now);
  Json d = Json::parse(detail.empty() ? "{}" : detail, nullptr, false);
  if (d.is_discarded()) d = Json::object();
  d["outcome"] = outcome;
  d["late_by_days"] = r.late_by_days;
  if (auto st = Stage(batch, school, r, "closed", Dump(d), actor, ctx); !st.ok()) {
    return st.error();
  }
  if (auto st = Commit(school, r, std::move(batch)); !st.ok()) return st.error();
  return r;
}

}  // namespace dovira::services
