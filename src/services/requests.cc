#include "services/requests.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>

#include "calendar/date.h"
#include "calendar/term.h"
#include "domain/intake.h"
#include "services/request_texts.h"

namespace dovira::services {
namespace {

using Json = nlohmann::json;
using domain::RequestState;

constexpr const char* kEuCountries[] = {"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI",
                                        "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU",
                                        "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
                                        "IS", "LI", "NO"};

bool IsEuCountry(const std::string& country) {
  for (const char* eu : kEuCountries) {
    if (country == eu) return true;
  }
  return false;
}

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

}  // namespace

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
      holds_(holds) {}

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
  const SubjectId subject(r.subject);
  const bool known = school.gate().With(subject, [](const domain::SubjectState* s) {
    return s != nullptr;
  });
  if (!known) return;  // erased, or never stored
  school.gate().Update(subject, [&](domain::SubjectState& s) {
    domain::ApplyEffects(all, cp->purpose_count(), s);
  });
}

Status RequestService::LoadEffects(SchoolRuntime& school) {
  std::vector<RequestInfo> with_effects;
  Status st = deps_.store.ForEachRequest(school.id(), false, [&](const ports::RequestRow& row) {
    if (row.subject.empty()) return;
    Json body = Json::parse(row.body, nullptr, false);
    if (body.is_discarded()) return;
    RequestInfo r;
    r.id = row.id;
    r.subject = row.subject;
    FromBody(body, r);
    if (!r.blocked.empty() || !r.restricted.empty() || r.restrict_all ||
        !r.objection_pending.empty() || !r.objection_upheld.empty() ||
        (r.right == "no_automated_decisions" && r.outcome == "effective")) {
      with_effects.push_back(std::move(r));
    }
  });
  if (!st.ok()) return st;
  for (const auto& r : with_effects) RefreshGate(school, r);
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
      if (summary.ok()) {
        for (const char* eu : kEuCountries) {
          if (summary->country == eu) eu_subject = true;
        }
      }
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

// --- Filing ------------------------------------------------------------------------------------

Result<RequestInfo> RequestService::File(const SchoolId& school, const FileRequest& in,
                                         const Actor& actor, const RequestContext& ctx) {
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto cp = (*rt)->policy();
  const policy::Policy& p = cp->policy();
  const Timestamp now = deps_.clock.Now();

  auto term = domain::TermFor(p, in.type);
  if (!term.ok()) return term.error();
  if (in.type == "unlawful_processing" &&
      (actor.kind == Actor::Kind::kPublic || actor.kind == Actor::Kind::kSubject)) {
    return Error::Denied("staff_only", "unlawful-processing cases are opened by staff");
  }
  if (in.channel.empty()) return Error::Invalid("channel is required", "channel");
  if (in.filed_by != "subject" && in.filed_by != "representative" && in.filed_by != "staff") {
    return Error::Invalid("filed_by must be subject, representative or staff", "filed_by");
  }
  const Timestamp received = in.received_at.value_or(now);
  if (received > now) {
    return Error::Refused("time_in_future", "received_at is later than now", "received_at");
  }
  std::string email, reply_email;
  for (auto [given, dst, name] : {std::tuple{&in.email, &email, "email"},
                                  std::tuple{&in.reply_email, &reply_email, "reply_email"}}) {
    if (given->empty()) continue;
    auto normalised = domain::NormaliseEmail(*given);
    if (!normalised) return Error::Invalid("not an e-mail address", name);
    *dst = std::move(*normalised);
  }
  for (const auto& f : in.fields) {
    if (cp->FieldIndex(f) < 0) {
      return Error::Refused("field_undeclared", "the policy declares no field \"" + f + "\"",
                            "fields");
    }
  }
  for (const auto& pu : in.purposes) {
    if (cp->PurposeIndex(pu) < 0) {
      return Error::Refused("purpose_undeclared", "the policy declares no purpose \"" + pu + "\"",
                            "purposes");
    }
  }

  if (in.type == "contest_segment" || !in.segment.empty()) {
    // R61: the segment contested, as the decisions register names it.
    if (in.type != "contest_segment") {
      return Error::Invalid("segment belongs to a contest_segment request only", "segment");
    }
    if (auto st = ValidSegment(in.segment); !st.ok()) return st.error();
  }

  RequestInfo r;
  r.id = deps_.crypto.NewId();
  r.type = in.type;
  r.right = domain::RightOfType(in.type);
  r.channel = in.channel;
  r.filed_by = in.filed_by;
  r.lang = MessageLang(in.lang);
  r.fields = in.fields;
  r.purposes = in.purposes;
  r.consents = in.consents;
  r.ground = in.ground;
  r.segment = in.segment;
  r.mode = in.mode;
  r.received_at = received;
  r.filed_at = now;
  r.reply_email = reply_email.empty() ? email : reply_email;
  r.requester_name = in.requester_name;
  r.statement = in.statement;
  r.destination_url = in.destination_url;
  r.due_source = term->source;
  r.term = calendar::FormatTerm(term->term);
  r.trigger = term->trigger;
  r.clause = term->clause;
  r.state = domain::RequestStateName(RequestState::kReceived);

  // Who is it about?
  std::string on_file;
  if (in.subject) {
    auto row = deps_.store.GetSubject(school, *in.subject);
    if (!row.ok()) return row.error();
    if (!*row) return Error{ErrorCode::kNotFound, "no such subject", "subject", "subject_unknown"};
    r.subject = in.subject->value();
  } else if (!in.email.empty()) {
    auto token = subjects_.LookupToken(school, "email", email);
    if (!token.ok()) return token.error();
    auto found = deps_.store.FindByLookup(school, "email", *token);
    if (!found.ok()) return found.error();
    if (*found) r.subject = (*found)->value();
  } else if (in.type != "unlawful_processing" && in.type != "claim" && in.type != "complaint") {
    return Error::Invalid("name the subject, or give the requester's e-mail address", "email");
  }
  on_file = AddressOnFile(school, *cp, r.subject);
  // A subject filing from their own cabinet is answered at the address they signed in with
  // (R36, R47): without it a withdrawal that erases them would leave them never told.
  if (r.reply_email.empty() && actor.kind == Actor::Kind::kSubject) r.reply_email = on_file;

  // R59: where the policy returns or deletes the data after a withdrawal, the requester may
  // choose which; elsewhere there is nothing to choose.
  if (in.type == "withdrawal" && !in.mode.empty()) {
    if (p.withdrawal.then != "return_or_delete") {
      return Error::Invalid("the policy offers no choice of mode after a withdrawal", "mode");
    }
    if (in.mode != "return" && in.mode != "delete") {
      return Error::Invalid("mode must be return or delete", "mode");
    }
  }
  // R58: the policy's consequence notice must be acknowledged before a withdrawal.
  if (in.type == "withdrawal" && !in.acknowledged_warning &&
      !p.withdrawal.consequence_notice.Get(r.lang, "uk").empty()) {
    Error e = Error::Conflict("acknowledgement_required",
                              p.withdrawal.consequence_notice.Get("uk") + "\n" +
                                  p.withdrawal.consequence_notice.Get("ru") + "\n" +
                                  p.withdrawal.consequence_notice.Get("en"));
    e.field = "acknowledged_warning";
    return e;
  }

  const policy::Right* right = p.FindRight(r.right);
  // R62: a right the policy gives through its EU overlay alone (004 §16.3.7) is for EU/EEA
  // subjects: the country on file must be one of them.
  if (right != nullptr && right->scope == "eu_overlay" && !r.subject.empty()) {
    auto summary = subjects_.Get(school, SubjectId(r.subject), Actor::System("requests"), {});
    if (!summary.ok()) return summary.error();
    if (!IsEuCountry(summary->country)) {
      return Error::Refused("eu_subjects_only",
                            "\"" + in.type + "\" is a right of EU/EEA subjects; the subject's "
                            "country on file is " +
                                (summary->country.empty() ? std::string("not recorded")
                                                          : summary->country),
                            "type");
    }
  }
  // Identity (R37): required by the policy, or the request did not come from the subject's own
  // account or a staff member who took it from the address on file.
  const bool self_or_staff =
      actor.kind == Actor::Kind::kSubject || actor.kind == Actor::Kind::kStaff ||
      actor.kind == Actor::Kind::kApiKey || actor.kind == Actor::Kind::kSystem;
  bool needs_identity = false;
  if (!r.subject.empty()) {
    if (right != nullptr && right->identity_verification == "required") needs_identity = true;
    if (!self_or_staff) needs_identity = true;
    if (self_or_staff && !r.reply_email.empty() && !on_file.empty() && r.reply_email != on_file &&
        in.filed_by == "subject") {
      needs_identity = true;  // the answer would go to an address that is not on file
    }
  }

  // Fee (R41).
  if (right != nullptr && !r.subject.empty()) {
    ports::RequestFilter f;
    f.subject = r.subject;
    f.limit = 1000;
    auto earlier = deps_.store.ListRequests(school, f);
    if (!earlier.ok()) return earlier.error();
    std::vector<Timestamp> times;
    for (const auto& e : *earlier) {
      if (domain::RightOfType(e.type) != nullptr && r.right == domain::RightOfType(e.type)) {
        times.push_back(e.received_at);
      }
    }
    r.fee_may_apply = domain::FeeMayApply(*right, cp->calendar(), received, times);
  }

  // The due date (R65-R67). A rectification that needs evidence counts from the evidence (R46);
  // until it arrives the request runs on the default term from receipt.
  Timestamp trigger = received;
  bool awaiting_evidence = false;
  if (term->trigger == "evidence_supplied") {
    if (in.evidence_supplied) {
      r.evidence_at = received;
    } else if (right != nullptr && right->evidence_required) {
      awaiting_evidence = true;
    }
  }
  auto due = domain::DueAt(cp->calendar(), trigger,
                           awaiting_evidence ? p.terms.default_request : term->term);
  if (!due.ok()) return due.error();
  r.due_at = *due;
  if (awaiting_evidence) r.due_source = "awaiting_evidence";

  std::lock_guard<std::mutex> lock(SchoolMutex(school));
  ports::WriteBatch batch;

  // Unknown requester: the explicit "not processed" answer, at once (R39).
  if (r.subject.empty() && (r.right == "access" || r.right == "information")) {
    r.state = domain::RequestStateName(RequestState::kDone);
    r.outcome = "no_data";
    r.closed_at = now;
    if (auto st = Stage(batch, school, r, "filed", Dump({{"outcome", "no_data"}}), actor, ctx);
        !st.ok()) {
      return st.error();
    }
    if (auto st = Notify(batch, school, r, "no_data", ""); !st.ok()) return st.error();
    if (auto st = Commit(school, r, std::move(batch)); !st.ok()) return st.error();
    return r;
  }
  if (r.subject.empty() && r.right != "complaint" && r.right != "unlawful_processing") {
    return Error{ErrorCode::kNotFound,
                 "no subject of this school has that e-mail address; name the subject",
                 "email", "subject_unknown"};
  }

  // The effects that start at filing.
  if (r.right == "rectification" && right != nullptr && right->block_on_filing) {
    if (r.fields.empty()) {
      return Error::Refused("fields_required", "name the fields to rectify", "fields");
    }
    r.blocked = r.fields;  // R45: storage only until resolved
  }
  if (r.right == "restriction") {
    if (in.type == "suspend" || r.fields.empty()) {
      r.restrict_all = true;  // R45 (003 suspend): every purpose but storage
    } else {
      r.restricted = r.fields;
    }
  }
  if (r.right == "objection") {
    if (r.purposes.empty()) {
      return Error::Refused("purposes_required", "name the purposes objected to", "purposes");
    }
    r.objection_pending = r.purposes;  // R52: at once, until decided
  }
  if (r.right == "marketing_objection") {
    // R53: every marketing purpose stops at once for every later send; no officer step.
    for (size_t i = 0; i < cp->purpose_count(); ++i) {
      if (cp->purpose(i).marketing) r.objection_upheld.push_back(cp->purpose(i).id);
    }
  }
  if (in.type == "contest_segment" && actor.kind == Actor::Kind::kStaff) {
    // R61: the case goes to a human at once; the staff member who takes it in holds it until it
    // is assigned to another (POST /requests/{id}/assign).
    r.assignee = actor.id;
  }
  if (r.right == "no_automated_decisions") {
    for (size_t i = 0; i < cp->purpose_count(); ++i) {
      if (cp->purpose(i).profiling) r.objection_upheld.push_back(cp->purpose(i).id);
    }
  }
  if (r.right == "unlawful_processing") {
    if (!r.subject.empty()) r.restrict_all = true;  // stop at once (the term is the latest)
    if (p.unlawful_processing.destroy) {
      auto destroy_due = domain::DueAt(cp->calendar(), received, *p.unlawful_processing.destroy);
      if (destroy_due.ok()) {
        r.due_at = *destroy_due;
        r.term = calendar::FormatTerm(*p.unlawful_processing.destroy);
      }
    }
  }

  // State.
  RequestState state = RequestState::kInProgress;
  std::string code;
  if (needs_identity) {
    state = RequestState::kAwaitingIdentity;
    r.identity = "required";
    code = NewCode(r);
  } else if (awaiting_evidence) {
    state = RequestState::kAwaitingEvidence;
  }
  r.state = domain::RequestStateName(state);

  // Requests that take effect on filing are decided before they are recorded: a withdrawal from
  // receipt (R55), marketing and automated-decision objections at once (R53, R62).
  bool destroy_now = false;
  bool forget_records = false;  // records were deleted in this batch (R57)
  std::string held_extra;  // R50: what legal holds keep, for the answer
  if (r.right == "withdrawal") {
    if (needs_identity) {
      return Error::Refused("identity_required",
                            "a withdrawal is taken by staff from the subject's own address or "
                            "through the personal account",
                            "email");
    }
    WithdrawRequest w;
    w.subject = SubjectId(r.subject);
    w.consent_types = r.consents;
    w.purposes = r.purposes;
    w.channel = r.channel;
    w.received_at = received;
    auto done = consents_.Withdraw(school, w, actor, ctx);
    if (!done.ok() && done.error().reason != "nothing_to_withdraw") return done.error();
    const bool all = r.consents.empty() && r.purposes.empty();
    const policy::Withdrawal& wd = p.withdrawal;
    const bool immediate = wd.declared && wd.deadline.term &&
                           wd.deadline.term->unit == calendar::TermUnit::kImmediate;
    const bool destroys = wd.then == "destroy" || wd.then == "destroy_or_anonymise";
    if (all && wd.effect == "stop_all_but_storage") r.restrict_all = true;  // R56
    if (all && wd.declared && wd.deadline.term && !immediate) {
      auto destroy_due = domain::DueAt(cp->calendar(), received, *wd.deadline.term);
      if (destroy_due.ok()) {
        // The term shown beside the due date is the one it was counted with (issue 12).
        r.due_at = *destroy_due;
        r.term = calendar::FormatTerm(*wd.deadline.term);
        r.trigger = wd.deadline.trigger;
      }
    }
    destroy_now = all && immediate && destroys;  // R57, R69: before the API answers
    if (all && immediate && wd.then == "destroy_consent_only_fields" && !r.subject.empty()) {
      // R57 (004, IC-004-4): the fields only consent-based purposes use are destroyed now, in
      // this batch; the fields another lawful basis needs stay, restricted to storage, and the
      // answer lists them with that basis.
      auto rows = deps_.store.GetRecords(school, SubjectId(r.subject));
      if (!rows.ok()) return rows.error();
      // R50: a consent-only field under a legal hold in force is kept too, until the hold ends.
      std::vector<ports::LegalHoldRow> holds;
      if (holds_ != nullptr) {
        auto in_force = holds_->InForce(school, SubjectId(r.subject));
        if (!in_force.ok()) return in_force.error();
        holds = std::move(*in_force);
      }
      const std::set<std::string> held_fields = LegalHoldService::HeldFields(holds);
      std::set<std::string> destroyed, held;
      std::map<std::string, std::string> kept;  // field → the purposes that keep it
      for (const auto& rec : *rows) {
        const int fi = cp->FieldIndex(rec.field);
        std::string other;
        for (size_t i = 0; fi >= 0 && i < cp->purpose_count(); ++i) {
          const auto& pu = cp->purpose(i);
          if (pu.fields.Test(static_cast<size_t>(fi)) && pu.basis != domain::Basis::kConsent) {
            other += (other.empty() ? "" : ", ") + pu.id;
          }
        }
        if (other.empty() && held_fields.count(rec.field) != 0) {
          held.insert(rec.field);
        } else if (other.empty()) {
          batch.deleted_records.emplace_back(school, rec.id);
          destroyed.insert(rec.field);
        } else {
          kept[rec.field] = other;
        }
      }
      for (const auto& [field, purposes] : kept) {
        r.restricted.push_back(field);
        r.kept.push_back(field + ": " + purposes);
      }
      for (auto& h : holds) {
        std::vector<std::string> mine;
        for (const auto& f : h.fields) {
          if (held.count(f) != 0) mine.push_back(f);
        }
        if (mine.empty()) continue;
        r.kept.push_back(Join(mine) + ": legal hold " + h.id + " (" + h.basis + ", until " +
                         h.until + ")");
        h.request = r.id;
        holds_->Stage(batch, h, "defer", actor, ctx);
      }
      for (const auto& f : held) {
        r.restricted.push_back(f);
        r.deferred.push_back(f);
      }
      if (!held.empty()) {
        held_extra = HeldText(*cp, r.lang, holds, held);
      }
      r.fields.assign(destroyed.begin(), destroyed.end());
      r.state = domain::RequestStateName(RequestState::kDone);
      r.outcome = "consent_only_destroyed";
      r.closed_at = now;
      forget_records = true;
    }
    if (!all) {
      r.state = domain::RequestStateName(RequestState::kDone);
      r.outcome = "withdrawn";
      r.closed_at = now;
    }
  }
  if (r.right == "marketing_objection" || r.right == "no_automated_decisions") {
    r.state = domain::RequestStateName(RequestState::kDone);
    r.outcome = "effective";
    r.closed_at = now;
  }

  Json detail = {{"type", r.type},
                 {"channel", r.channel},
                 {"filed_by", r.filed_by},
                 {"received_at", FormatTimestamp(received)},
                 {"due_at", FormatTimestamp(r.due_at)},
                 {"due_source", r.due_source}};
  if (auto st = Stage(batch, school, r, "filed", Dump(detail), actor, ctx); !st.ok()) {
    return st.error();
  }
  if (r.right == "restriction" && !r.subject.empty()) {
    // The restriction holds from filing; the recipients of the restricted data are told now.
    if (auto st = NotifyRecipients(batch, school, r, "restriction",
                                   r.restrict_all ? std::vector<std::string>() : r.restricted, {},
                                   actor, ctx);
        !st.ok()) {
      return st.error();
    }
  }
  if (destroy_now) {
    if (auto st = Notify(batch, school, r, "received", ""); !st.ok()) return st.error();
    return Destroy(school, std::move(r), "consent_withdrawn", actor, ctx, std::move(batch));
  }

  if (auto st = Notify(batch, school, r, "received", ""); !st.ok()) return st.error();
  if (r.right == "restriction" && p.action_notice.declared &&
      (r.restrict_all || !r.restricted.empty())) {
    // R47: the suspension (blocking) is performed at filing; the subject is told within the
    // action-notice term counted from today (R66).
    if (auto st = Notify(batch, school, r, "action_notice", ""); !st.ok()) return st.error();
  }
  if (forget_records) {
    // R57: the answer says what was destroyed and what was kept, and why.
    std::string extra = "destroyed: " + (r.fields.empty() ? std::string("-") : Join(r.fields));
    for (const auto& k : r.kept) extra += "\nkept (restricted to storage): " + k;
    if (!held_extra.empty()) extra += "\n" + held_extra;
    if (auto st = Notify(batch, school, r, "answer", extra); !st.ok()) return st.error();
  }
  if (!code.empty()) {
    if (auto st = MailCode(batch, school, r, on_file, code); !st.ok()) return st.error();
  }
  if (auto st = Commit(school, r, std::move(batch)); !st.ok()) return st.error();
  if (forget_records) subjects_.ForgetRecords(school, SubjectId(r.subject));
  return r;
}

std::string RequestService::AddressOnFile(const SchoolId& school, const domain::CompiledPolicy& cp,
                                          const std::string& subject) {
  if (subject.empty()) return {};
  auto records = subjects_.OpenAll(school, SubjectId(subject));
  if (!records.ok()) return {};
  for (const auto& rec : *records) {
    const auto& f = cp.field(static_cast<size_t>(std::max(0, cp.FieldIndex(rec.row.field))));
    if (f.type == "email") return rec.value;  // stored normalised
  }
  return {};
}

std::string RequestService::NewCode(RequestInfo& r) {
  std::string code = OneTimeCode(deps_.crypto);
  r.code_hash = ports::ToHex(deps_.crypto.Hash(r.id + "|" + code));
  r.code_attempts = 0;
  r.code_expires_at = deps_.clock.Now() + kCodeLifetime;
  return code;
}

Status RequestService::MailCode(ports::WriteBatch& batch, const SchoolId& school,
                                const RequestInfo& r, const std::string& on_file,
                                const std::string& code) {
  // The code goes to the address on file, else to the address given (the subject's own).
  const std::string& to = on_file.empty() ? r.reply_email : on_file;
  if (to.empty()) return Status::Ok();
  OutMessage m = Letter("identity_code", r.lang, to,
                        {{"id", r.id},
                         {"type", RequestTypeName(r.type, r.lang)},
                         {"code", code},
                         {"minutes", std::to_string(kCodeLifetime.count())}});
  m.request = r.id;
  auto id = outbox_.Add(batch, school, m);
  if (!id.ok()) return id.error();
  return Status::Ok();
}

// --- Reading -----------------------------------------------------------------------------------

Result<RequestInfo> RequestService::Get(const SchoolId& school, const std::string& id) {
  return Load(school, id);
}

Result<std::vector<RequestInfo>> RequestService::List(const SchoolId& school,
                                                      const ports::RequestFilter& filter) {
  auto rows = deps_.store.ListRequests(school, filter);
  if (!rows.ok()) return rows.error();
  std::vector<RequestInfo> out;
  out.reserve(rows->size());
  for (const auto& row : *rows) {
    RequestInfo r;
    r.id = row.id;
    r.type = row.type;
    r.state = row.state;
    r.subject = row.subject;
    r.overdue = row.overdue;
    r.assignee = row.assignee;
    r.received_at = row.received_at;
    r.due_at = row.due_at;
    r.updated_at = row.updated_at;
    Json body = Json::parse(row.body, nullptr, false);
    if (!body.is_discarded()) FromBody(body, r);
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<RequestEvent>> RequestService::Events(const SchoolId& school,
                                                         const std::string& id) {
  auto rows = deps_.store.GetRequestEvents(school, id);
  if (!rows.ok()) return rows.error();
  std::vector<RequestEvent> out;
  for (const auto& e : *rows) {
    RequestEvent ev{e.seq, e.at, e.actor, e.kind, e.body, ""};
    if (!e.sealed.empty()) {
      auto text = deps_.keys.OpenSecret(school, e.sealed,
                                        "request-event|" + school.value() + "|" + id + "|" +
                                            std::to_string(e.seq));
      if (text.ok()) ev.comment = *text;
    }
    out.push_back(std::move(ev));
  }
  return out;
}

// --- Steps -------------------------------------------------------------------------------------

namespace {

Status MustBeOpen(const RequestInfo& r) {
  auto s = domain::ParseRequestState(r.state);
  if (!s || !domain::IsOpen(*s)) {
    return Error::Conflict("request_closed", "the request is already " + r.state);
  }
  return Status::Ok();
}

}  // namespace

Result<RequestInfo> RequestService::Verify(const SchoolId& school, const std::string& id,
                                           const std::string& method, const std::string& code,
                                           const std::string& evidence, const Actor& actor,
                                           const RequestContext& ctx) {
  std::lock_guard<std::mutex> lock(SchoolMutex(school));
  auto r = Load(school, id);
  if (!r.ok()) return r.error();
  if (auto st = MustBeOpen(*r); !st.ok()) return st.error();
  if (r->state != domain::RequestStateName(RequestState::kAwaitingIdentity)) {
    return Error::Conflict("identity_not_awaited", "the request does not await identity");
  }
  if (method == "email_code") {
    if (code.empty()) return Error::Invalid("code is required", "code");
    // Five tries and fifteen minutes, as the cabinet's sign-in code (R37): checked before the
    // code, so that a used-up or expired code is refused even when it is the right one.
    if (r->code_hash.empty() || r->code_attempts >= kMaxCodeAttempts) {
      return Error{ErrorCode::kTooManyRequests,
                   "the code was tried too often and no longer works; ask for a new code", "code",
                   "code_attempts_exceeded"};
    }
    if (!r->code_expires_at || *r->code_expires_at <= deps_.clock.Now()) {
      return Error::Refused("code_expired",
                            "the code has expired (a code works for " +
                                std::to_string(kCodeLifetime.count()) +
                                " minutes); ask for a new code",
                            "code");
    }
    if (!deps_.crypto.Equal(ports::ToHex(deps_.crypto.Hash(r->id + "|" + code)), r->code_hash)) {
      ++r->code_attempts;
      const int left = kMaxCodeAttempts - r->code_attempts;
      ports::WriteBatch batch;
      Json detail = {{"attempts", r->code_attempts}, {"left", left}};
      if (auto st = Stage(batch, school, *r, "code_failed", Dump(detail), actor, ctx); !st.ok()) {
        return st.error();
      }
      if (auto st = Commit(school, *r, std::move(batch)); !st.ok()) return st.error();
      return Error::Refused("code_invalid",
                            left > 0 ? "the code does not match (" + std::to_string(left) +
                                           (left == 1 ? " try" : " tries") + " left)"
                                     : "the code does not match, and it was the last try; ask "
                                       "for a new code",
                            "code");
    }
  } else if (method == "document") {
    if (actor.kind != Actor::Kind::kStaff) {
      return Error::Denied("staff_only", "a document check is recorded by staff");
    }
    if (evidence.empty()) {
      return Error::Invalid("evidence is required: which document was checked", "evidence");
    }
  } else if (method == "signed_in") {
    if (actor.kind != Actor::Kind::kSubject || actor.id != r->subject) {
      return Error::Denied("not_the_subject", "only the signed-in subject can confirm this way");
    }
  } else {
    return Error::Invalid("method must be email_code, document or signed_in", "method");
  }
  r->identity = "verified";
  r->verification_method = method;
  r->verified_at = deps_.clock.Now();
  r->code_hash.clear();
  r->code_attempts = 0;
  r->code_expires_at.reset();
  const bool awaiting_evidence = r->due_source == "awaiting_evidence";
  r->state = domain::RequestStateName(awaiting_evidence ? RequestState::kAwaitingEvidence
                                                        : RequestState::kInProgress);
  ports::WriteBatch batch;
  Json detail = {{"method", method}, {"evidence_recorded", !evidence.empty()}};
  if (auto st = Stage(batch, school, *r, "verified", Dump(detail), actor, ctx, evidence);
      !st.ok()) {
    return st.error();
  }
  if (auto st = Commit(school, *r, std::move(batch)); !st.ok()) return st.error();
  return r;
}

Result<RequestInfo> RequestService::ResendCode(const SchoolId& school, const std::string& id,
                                               const std::string& email, const Actor& actor,
                                               const RequestContext& ctx) {
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto address = domain::NormaliseEmail(email);
  if (!address) return Error::Invalid("not an e-mail address", "email");
  std::lock_guard<std::mutex> lock(SchoolMutex(school));
  auto r = Load(school, id);
  if (!r.ok()) return r.error();
  if (auto st = MustBeOpen(*r); !st.ok()) return st.error();
  if (r->state != domain::RequestStateName(RequestState::kAwaitingIdentity)) {
    return Error::Conflict("identity_not_awaited", "the request does not await identity");
  }
  const std::string on_file = AddressOnFile(school, *(*rt)->policy(), r->subject);
  if (*address != r->reply_email && *address != on_file) {
    return Error::Refused("email_mismatch",
                          "give the e-mail address the request was filed with", "email");
  }
  ports::WriteBatch batch;
  const std::string code = NewCode(*r);
  Json detail = {{"expires_at", FormatTimestamp(*r->code_expires_at)}};
  if (auto st = Stage(batch, school, *r, "code_sent", Dump(detail), actor, ctx); !st.ok()) {
    return st.error();
  }
  if (auto st = MailCode(batch, school, *r, on_file, code); !st.ok()) return st.error();
  if (auto st = Commit(school, *r, std::move(batch)); !st.ok()) return st.error();
  return r;
}

Result<RequestInfo> RequestService::SupplyEvidence(const SchoolId& school, const std::string& id,
                                                   std::optional<Timestamp> at,
                                                   const std::string& note, const Actor& actor,
                                                   const RequestContext& ctx) {
  std::lock_guard<std::mutex> lock(SchoolMutex(school));
  auto r = Load(school, id);
  if (!r.ok()) return r.error();
  if (auto st = MustBeOpen(*r); !st.ok()) return st.error();
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto cp = (*rt)->policy();
  auto term = domain::TermFor(cp->policy(), r->type);
  if (!term.ok()) return term.error();
  if (term->trigger != "evidence_supplied") {
    return Error::Conflict("evidence_not_awaited", "this request's term does not run from evidence");
  }
  const Timestamp now = deps_.clock.Now();
  const Timestamp when = at.value_or(now);
  if (when > now) return Error::Refused("time_in_future", "the evidence time is later than now", "at");
  auto due = domain::DueAt(cp->calendar(), when, term->term);
  if (!due.ok()) return due.error();
  r->evidence_at = when;
  r->due_at = *due;  // R46, R66: counted from the day the evidence was supplied
  r->due_source = term->source;
  if (r->state == domain::RequestStateName(RequestState::kAwaitingEvidence)) {
    r->state = domain::RequestStateName(RequestState::kInProgress);
  }
  ports::WriteBatch batch;
  Json detail = {{"evidence_at", FormatTimestamp(when)}, {"due_at", FormatTimestamp(*due)}};
  if (auto st = Stage(batch, school, *r, "evidence", Dump(detail), actor, ctx, note); !st.ok()) {
    return st.error();
  }
  if (auto st = Commit(school, *r, std::move(batch)); !st.ok()) return st.error();
  return r;
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

Result<RequestInfo> RequestService::Destroy(const SchoolId& school, RequestInfo r,
                                            const std::string& ground, const Actor& actor,
                                            const RequestContext& ctx, ports::WriteBatch batch) {
  // The request closes in the same batch as the erasure; its own record keeps no personal data
  // but the reply address of the pending answer (sealed; emptied by the outbox once sent).
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto cp = (*rt)->policy();
  const Timestamp now = deps_.clock.Now();
  if (holds_ != nullptr && !r.subject.empty()) {
    // R50: fields under a legal hold in force are kept, restricted to storage, until it ends.
    auto holds = holds_->InForce(school, SubjectId(r.subject));
    if (!holds.ok()) return holds.error();
    if (!holds->empty()) {
      auto records = deps_.store.GetRecords(school, SubjectId(r.subject));
      if (!records.ok()) return records.error();
      const std::set<std::string> held = LegalHoldService::HeldFields(*holds);
      if (std::any_of(records->begin(), records->end(),
                      [&](const ports::RecordRow& rec) { return held.count(rec.field) != 0; })) {
        return DestroyExceptHeld(school, std::move(r), ground, std::move(*holds), *records, actor,
                                 ctx, std::move(batch));
      }
    }
  }
  r.state = domain::RequestStateName(RequestState::kDone);
  r.outcome = "erased";
  r.closed_at = now;
  r.late_by_days = domain::LateByDays(cp->calendar(), r.due_at, now);
  r.blocked.clear();
  r.restricted.clear();
  r.restrict_all = false;
  r.objection_pending.clear();
  for (const auto& store : cp->stores()) {
    r.tasks.push_back(RequestTask{"store:" + store, "erase", "done", now, ""});
  }
  // The recipients that received the subject's data are told before the log goes with the
  // subject (R48, R76).
  if (auto st = NotifyRecipients(batch, school, r, "erasure", {}, {}, actor, ctx); !st.ok()) {
    return st.error();
  }
  if (std::any_of(r.tasks.begin(), r.tasks.end(),
                  [](const RequestTask& t) { return t.state != "done"; })) {
    r.state = domain::RequestStateName(RequestState::kPartlyDone);
  }
  // Stage needs the pseudonym, which the erasure removes: stage first.
  Json d = {{"outcome", "erased"}, {"ground", ground}, {"late_by_days", r.late_by_days}};
  if (auto st = Stage(batch, school, r, "closed", Dump(d), actor, ctx); !st.ok()) {
    return st.error();
  }
  // R59 (000): after a withdrawal the policy either hands the data back, then deletes them, or
  // deletes them outright, as the requester chose (or the policy's default): the hand-back is
  // the whole package, attached to the answer written before the deletion, in the same batch.
  std::vector<ports::MailAttachment> returned;
  const policy::Withdrawal& wd = cp->policy().withdrawal;
  if (r.right == "withdrawal" && wd.then == "return_or_delete" &&
      (r.mode.empty() ? wd.default_mode : r.mode) == "return") {
    auto package = BuildPackage(**rt, r);
    if (!package.ok()) return package.error();
    returned.push_back(
        ports::MailAttachment{"dovira-" + r.id + ".json", "application/json", *package});
  }
  if (auto st = Notify(batch, school, r, "answer", "", returned); !st.ok()) return st.error();
  const SubjectId subject(r.subject);
  Status st = subjects_.DestroySubject(school, subject, ground, actor, ctx, std::move(batch), r.id);
  if (!st.ok()) return st.error();
  {
    std::lock_guard<std::mutex> lock(effects_mu_);
    effects_.erase(school.value() + "|" + r.subject);
  }
  return r;
}

std::string RequestService::HeldText(const domain::CompiledPolicy& cp, const std::string& lang,
                                     const std::vector<ports::LegalHoldRow>& holds,
                                     const std::set<std::string>& present) const {
  const policy::Policy& p = cp.policy();
  std::string out;
  for (const auto& h : holds) {
    std::vector<std::string> mine;
    for (const auto& f : h.fields) {
      if (present.count(f) != 0) mine.push_back(f);
    }
    if (mine.empty()) continue;
    std::string basis = h.basis;
    for (const auto& law : p.laws) {
      if (law.id != h.basis) continue;
      basis = law.title.Get(lang);
      if (!law.citation.empty()) basis += " (" + law.citation + ")";
    }
    MessageText line = RenderMessage(
        "legal_hold_kept", lang,
        {{"fields", FieldTitles(cp.policy(), mine, lang)},
         {"reason", h.reason},
         {"basis", basis},
         {"until", LetterDayText(h.until, lang)}});
    out += (out.empty() ? "" : "\n") + line.body;
  }
  return out;
}

Result<RequestInfo> RequestService::DestroyExceptHeld(const SchoolId& school, RequestInfo r,
                                                      const std::string& ground,
                                                      std::vector<ports::LegalHoldRow> holds,
                                                      const std::vector<ports::RecordRow>& records,
                                                      const Actor& actor,
                                                      const RequestContext& ctx,
                                                      ports::WriteBatch batch) {
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto cp = (*rt)->policy();
  const Timestamp now = deps_.clock.Now();
  const SubjectId subject(r.subject);
  const std::set<std::string> held_fields = LegalHoldService::HeldFields(holds);
  std::set<std::string> erased, kept;
  std::map<std::string, std::set<std::string>> kept_by_store;
  for (const auto& rec : records) {
    if (held_fields.count(rec.field) != 0) {
      kept.insert(rec.field);
      kept_by_store[rec.store].insert(rec.field);
    } else {
      batch.deleted_records.emplace_back(school, rec.id);
      erased.insert(rec.field);
    }
  }
  for (const auto& f : erased) {
    batch.deleted_field_lookups.push_back(ports::LookupRow{school, f, "", subject});
  }
  // The subject row says its erasure waits for a hold; the key stays, so that the held data can
  // still be read for storage (and shown in an access package) until the retention job ends it.
  auto row = deps_.store.GetSubject(school, subject);
  if (!row.ok()) return row.error();
  if (!*row) return Error{ErrorCode::kNotFound, "no such subject", "subject", "subject_unknown"};
  ports::SubjectRow subject_row = **row;
  subject_row.state = "held";
  subject_row.updated_at = now;
  batch.subjects.push_back(std::move(subject_row));

  r.state = domain::RequestStateName(RequestState::kDone);
  r.outcome = "partly_erased_held";
  r.closed_at = now;
  r.late_by_days = domain::LateByDays(cp->calendar(), r.due_at, now);
  r.blocked.clear();
  r.objection_pending.clear();
  r.restricted.assign(kept.begin(), kept.end());
  r.restrict_all = true;  // nothing but the held data is left: storage only, for every purpose
  r.deferred.assign(kept.begin(), kept.end());
  r.kept.clear();
  Json held = Json::array();
  for (auto& h : holds) {
    std::vector<std::string> mine;
    for (const auto& f : h.fields) {
      if (kept.count(f) != 0) mine.push_back(f);
    }
    if (mine.empty()) continue;
    r.kept.push_back(Join(mine) + ": legal hold " + h.id + " (" + h.basis + ", until " +
                     h.until + ")");
    held.push_back({{"hold", h.id}, {"fields", mine}, {"basis", h.basis}, {"until", h.until}});
    h.request = r.id;
    holds_->Stage(batch, h, "defer", actor, ctx);
  }
  // B03: each store erased what it was asked to; a store keeping held records says until when.
  for (const auto& store : cp->stores()) {
    std::string note;
    auto it = kept_by_store.find(store);
    if (it != kept_by_store.end()) {
      note = "kept under a legal hold until it ends: " +
             Join(std::vector<std::string>(it->second.begin(), it->second.end()));
    }
    r.tasks.push_back(RequestTask{"store:" + store, "erase", "done", now, note});
  }
  const std::vector<std::string> erased_list(erased.begin(), erased.end());
  if (!erased_list.empty()) {
    if (auto st = NotifyRecipients(batch, school, r, "erasure", erased_list, {}, actor, ctx);
        !st.ok()) {
      return st.error();
    }
  }
  if (std::any_of(r.tasks.begin(), r.tasks.end(),
                  [](const RequestTask& t) { return t.state != "done"; })) {
    r.state = domain::RequestStateName(RequestState::kPartlyDone);
  }
  Json d = {{"outcome", r.outcome},
            {"ground", ground},
            {"late_by_days", r.late_by_days},
            {"erased", erased_list},
            {"held", held}};
  if (auto st = Stage(batch, school, r, "closed", Dump(d), actor, ctx); !st.ok()) {
    return st.error();
  }
  AuditEvent a;
  a.actor = actor.AuditName();
  a.role = actor.role;
  a.action = "subject.erase_except_held";
  auto pseudonym = audit_.Pseudonym(school, subject);
  if (pseudonym.ok()) a.subject_ref = *pseudonym;
  a.fields = JoinIds(erased_list);
  a.outcome = "ok";
  a.reason = ground;
  a.decision_id = r.id;
  a.request_id = ctx.request_id;
  a.detail = Dump({{"held", held}, {"key_destroyed", false}});
  audit_.Add(batch, school, std::move(a));
  const std::string lang = MessageLang(r.lang);
  std::string extra;
  if (!erased_list.empty()) {
    extra = RenderMessage("legal_hold_erased", lang,
                          {{"fields", FieldTitles(cp->policy(), erased_list, lang)}})
                .body +
            "\n";
  }
  extra += HeldText(*cp, lang, holds, kept);
  if (auto st = Notify(batch, school, r, "answer", extra); !st.ok()) return st.error();
  if (auto st = Commit(school, r, std::move(batch)); !st.ok()) return st.error();
  subjects_.ForgetRecords(school, subject);
  return r;
}

namespace {

// What a subject's records contribute to the access package's summary parts (R40).
struct PackageFacts {
  std::set<std::string> categories, purposes, sources;
  size_t records = 0;
};

void AddFacts(const domain::CompiledPolicy& cp, const ports::RecordRow& row, PackageFacts& f) {
  ++f.records;
  f.categories.insert(row.category);
  f.sources.insert(row.source + "/" + row.channel);
  const int fi = cp.FieldIndex(row.field);
  for (size_t i = 0; fi >= 0 && i < cp.purpose_count(); ++i) {
    if (cp.purpose(i).fields.Test(static_cast<size_t>(fi))) f.purposes.insert(cp.purpose(i).id);
  }
}

// True when `row` adds nothing to `f` but its count: the package's summary, written before the
// records, still describes them.
bool CoveredBy(const domain::CompiledPolicy& cp, const ports::RecordRow& row,
               const PackageFacts& f) {
  PackageFacts one;
  AddFacts(cp, row, one);
  return std::includes(f.categories.begin(), f.categories.end(), one.categories.begin(),
                       one.categories.end()) &&
         std::includes(f.sources.begin(), f.sources.end(), one.sources.begin(),
                       one.sources.end()) &&
         std::includes(f.purposes.begin(), f.purposes.end(), one.purposes.begin(),
                       one.purposes.end());
}

// R50: held data are ordinary data until erased: the package lists them, each marked with the
// hold that keeps it, and names the holds in force.
struct HeldMarks {
  std::map<std::string, Json> by_field;  // field → {hold, until}
  Json holds = Json::array();
};

Result<HeldMarks> HeldMarksOf(ports::Store& store, SchoolRuntime& school,
                              const std::string& subject, Timestamp at) {
  HeldMarks marks;
  if (subject.empty()) return marks;
  auto rows = store.ListLegalHolds(school.id(), SubjectId(subject));
  if (!rows.ok()) return rows.error();
  const std::string today = calendar::FormatDate(
      school.policy()->calendar().LocalDate(std::chrono::floor<std::chrono::seconds>(at)));
  for (const auto& h : *rows) {
    if (!LegalHoldService::InForceOn(h, today)) continue;
    for (const auto& f : h.fields) marks.by_field[f] = {{"hold", h.id}, {"until", h.until}};
    marks.holds.push_back({{"id", h.id},
                           {"fields", h.fields},
                           {"reason", h.reason},
                           {"basis", h.basis},
                           {"until", h.until}});
  }
  return marks;
}

Json PackageItem(const SubjectService::OpenRecord& rec, const HeldMarks& marks) {
  Json item = {{"field", rec.row.field},
               {"category", rec.row.category},
               {"store", rec.row.store},
               {"value", rec.value},
               {"source", rec.row.source},
               {"channel", rec.row.channel},
               {"collected_at", FormatTimestamp(rec.row.collected_at)}};
  auto it = marks.by_field.find(rec.row.field);
  if (it != marks.by_field.end()) item["held"] = it->second;
  return item;
}

// The access package with `data` as given: everything but the records comes from the policy, the
// facts and the consent ledger.
Result<Json> PackageJson(ports::Store& store, DisclosureService& disclosure_log, SchoolRuntime& school,
                         const RequestInfo& r, const PackageFacts& facts, const HeldMarks& marks,
                         Json data, Timestamp generated_at) {
  auto cp = school.policy();
  const policy::Policy& p = cp->policy();
  const std::string lang = MessageLang(r.lang);
  auto none_if_empty = [](Json j) { return j.empty() ? Json("none") : j; };
  Json cats = Json::array();
  for (const auto& c : facts.categories) {
    auto it = p.categories.find(c);
    cats.push_back({{"id", c}, {"title", it == p.categories.end() ? c : it->second.title.Get(lang)}});
  }
  Json purp = Json::array(), retention = Json::array();
  std::set<std::string> recipient_ids;
  for (const auto& id : facts.purposes) {
    const policy::Purpose* pu = p.FindPurpose(id);
    if (pu == nullptr) continue;
    purp.push_back({{"id", id}, {"title", pu->title.Get(lang)}, {"basis", pu->basis}});
    retention.push_back(
        {{"purpose", id},
         {"term", pu->retention ? calendar::FormatTerm(*pu->retention) : "while_needed"}});
    for (const auto& [rid, rec] : p.recipients) {
      if (Contains(rec.purposes, id) || Contains(pu->recipients, rid)) recipient_ids.insert(rid);
    }
  }
  // R42, R76: what was actually disclosed, from the log (all of it: the log is kept as long as
  // the subject, so it covers the year before the request and more).
  std::vector<ports::DisclosureRow> log;
  if (!r.subject.empty()) {
    ports::DisclosureFilter f;
    f.subject = r.subject;
    f.limit = 100000;
    auto rows = disclosure_log.List(school.id(), f);
    if (!rows.ok()) return rows.error();
    log = std::move(*rows);
  }
  std::map<std::string, Json> received;  // recipient → its disclosures, newest first
  std::map<std::string, std::set<std::string>> received_categories, received_fields;
  std::map<std::string, std::set<std::string>> used_safeguards, used_countries;
  Json disclosures = Json::array();
  for (const auto& d : log) {
    Json entry = {{"at", FormatTimestamp(d.at)},
                  {"categories", d.categories},
                  {"fields", d.fields},
                  {"purpose", d.purpose},
                  {"basis", d.basis},
                  {"safeguard", d.safeguard},
                  {"country", d.country}};
    received[d.recipient].push_back(entry);
    entry["recipient"] = d.recipient;
    disclosures.push_back(std::move(entry));
    received_categories[d.recipient].insert(d.categories.begin(), d.categories.end());
    received_fields[d.recipient].insert(d.fields.begin(), d.fields.end());
    used_safeguards[d.recipient].insert(d.safeguard);
    if (!d.country.empty()) used_countries[d.recipient].insert(d.country);
    recipient_ids.insert(d.recipient);
  }
  Json recipients = Json::array(), safeguards = Json::array();
  for (const auto& rid : recipient_ids) {
    auto pr = p.recipients.find(rid);
    if (pr == p.recipients.end()) continue;
    const policy::Recipient& rec = pr->second;
    auto got = received.find(rid);
    recipients.push_back({{"id", rid},
                          {"title", rec.title.Get(lang)},
                          {"kind", rec.kind},
                          {"countries", rec.countries},
                          {"received", got == received.end() ? Json::array() : got->second}});
    if (rec.safeguard != "none") {
      safeguards.push_back({{"recipient", rid}, {"safeguard", rec.safeguard}});
    }
  }
  Json src = Json::array();
  for (const auto& s : facts.sources) src.push_back(s);
  Json package = {
      {"request", r.id},
      {"school", school.id().value()},
      {"policy_version", school.version()},
      {"generated_at", FormatTimestamp(generated_at)},
      {"confirmation", !r.subject.empty() && !data.empty()},
      {"data", none_if_empty(data)},
      {"categories", none_if_empty(cats)},
      {"purposes", none_if_empty(purp)},
      {"operations", Json::array({"collection", "recording", "storage", "use", "erasure"})},
      {"recipients", none_if_empty(recipients)},
      {"disclosures", none_if_empty(disclosures)},
      {"transfer_safeguards", none_if_empty(safeguards)},
      {"retention", none_if_empty(retention)},
      {"sources", none_if_empty(src)},
      {"automated_decisions", p.automated_decisions.solely_automated_allowed},
      {"profiling", p.automated_decisions.profiling},
  };
  if (!marks.holds.empty()) package["legal_holds"] = marks.holds;
  if (r.right == "transfer_info") {
    // R43: every third party the data went to, what it received, and the standard contractual
    // clauses for each transfer made under them (R85).
    Json transfers = Json::array();
    for (const auto& [rid, cats] : received_categories) {
      auto pr = p.recipients.find(rid);
      const bool scc = used_safeguards[rid].count("scc") != 0 ||
                       (pr != p.recipients.end() && pr->second.safeguard == "scc");
      Json t = {{"recipient", rid},
                {"title", pr == p.recipients.end() ? rid : pr->second.title.Get(lang)},
                {"countries", used_countries[rid].empty() && pr != p.recipients.end()
                                  ? Json(pr->second.countries)
                                  : Json(used_countries[rid])},
                {"categories", cats},
                {"fields", received_fields[rid]},
                {"safeguards", used_safeguards[rid]},
                {"standard_contractual_clauses", nullptr}};
      if (scc) {
        auto contact = disclosure_log.Contact(school.id(), rid);
        if (!contact.ok()) return contact.error();
        const std::string url = *contact ? (*contact)->scc_document_url : std::string();
        t["standard_contractual_clauses"] =
            url.empty() ? Json{{"on_file", false}, {"document", nullptr}}
                        : Json{{"on_file", true}, {"document", url}};
      }
      transfers.push_back(std::move(t));
    }
    package["transfers"] = none_if_empty(transfers);
  }
  if (!r.subject.empty()) {
    Json consents = Json::array();
    auto ledger = store.GetConsents(school.id(), SubjectId(r.subject));
    if (ledger.ok()) {
      for (const auto& c : *ledger) {
        consents.push_back({{"consent", c.consent_type},
                            {"action", c.action},
                            {"grants", c.grants},
                            {"at", FormatTimestamp(c.at)},
                            {"channel", c.channel},
                            {"policy_version", c.policy_version}});
      }
    }
    package["consents"] = none_if_empty(consents);
  }
  return package;
}

// Records read and written per page by the streamed package.
constexpr size_t kPackagePage = 256;
// The streamed package hands its output over in pieces of about this size.
constexpr size_t kPackageChunk = size_t{64} * 1024;

}  // namespace

Result<std::string> RequestService::BuildPackage(SchoolRuntime& school, const RequestInfo& r) {
  auto cp = school.policy();
  Json data = Json::array();
  PackageFacts facts;
  const Timestamp now = deps_.clock.Now();
  auto marks = HeldMarksOf(deps_.store, school, r.subject, now);
  if (!marks.ok()) return marks.error();
  if (!r.subject.empty()) {
    auto records = subjects_.OpenAll(school.id(), SubjectId(r.subject));
    if (!records.ok()) return records.error();
    for (const auto& rec : *records) {
      data.push_back(PackageItem(rec, *marks));
      AddFacts(*cp, rec.row, facts);
    }
  }
  auto package =
      PackageJson(deps_.store, disclosures_, school, r, facts, *marks, std::move(data), now);
  if (!package.ok()) return package.error();
  return Dump(*package);
}

// The streamed package: the summary of the records (their categories, purposes and sources, read
// without opening a value) is known before the first byte; the records themselves are opened and
// written a page at a time. The bytes are those of BuildPackage: the object's members are written
// one by one in the order nlohmann-json writes them, with "data" spliced in as it is read.
class RequestService::PackageWriter {
 public:
  PackageWriter(RequestService& service, SchoolRuntime* school, RequestInfo r, PackageFacts facts,
                HeldMarks marks, Timestamp generated_at)
      : service_(service),
        school_(school),
        r_(std::move(r)),
        facts_(std::move(facts)),
        marks_(std::move(marks)),
        generated_at_(generated_at) {}

  Status Write(const std::function<bool(std::string)>& out) {
    const bool with_data = !r_.subject.empty() && facts_.records > 0;
    auto built = PackageJson(service_.deps_.store, service_.disclosures_, *school_, r_, facts_,
                             marks_, with_data ? Json::array({nullptr}) : Json::array(),
                             generated_at_);
    if (!built.ok()) return built.error();
    const Json package = std::move(*built);
    std::string buf;
    auto flush = [&](bool always) {
      if (buf.empty() || (!always && buf.size() < kPackageChunk)) return true;
      bool ok = out(std::move(buf));
      buf.clear();
      return ok;
    };
    auto gone = [] { return Error::Unavailable("the client went away"); };
    buf.push_back('{');
    bool first = true;
    for (const auto& [key, value] : package.items()) {
      if (!first) buf.push_back(',');
      first = false;
      buf += Dump(Json(key));
      buf.push_back(':');
      if (key != "data" || !with_data) {
        buf += Dump(value);
        continue;
      }
      buf.push_back('[');
      if (!flush(true)) return gone();  // the summary leaves before any record is opened
      if (Status st = WriteData(buf, flush); !st.ok()) return st;
      buf.push_back(']');
    }
    buf.push_back('}');
    if (!flush(true)) return gone();
    return Status::Ok();
  }

 private:
  template <typename Flush>
  Status WriteData(std::string& buf, Flush& flush) {
    auto cp = school_->policy();
    const SubjectId subject(r_.subject);
    std::string after;
    size_t written = 0;
    for (;;) {
      auto page = service_.subjects_.OpenPage(school_->id(), subject, after, kPackagePage);
      if (!page.ok()) return page.error();
      if (page->empty()) break;
      for (const auto& rec : *page) {
        if (written == facts_.records || !CoveredBy(*cp, rec.row, facts_)) return Changed();
        if (written++ > 0) buf.push_back(',');
        buf += Dump(PackageItem(rec, marks_));
        if (!flush(false)) return Error::Unavailable("the client went away");
      }
      after = page->back().row.id.value();
    }
    if (written != facts_.records) return Changed();
    return Status::Ok();
  }

  static Error Changed() {
    return Error::Unavailable(
        "the subject's records changed while the access package was written; ask for it again");
  }

  RequestService& service_;
  SchoolRuntime* school_;  // the service's schools outlive their requests
  RequestInfo r_;
  PackageFacts facts_;
  HeldMarks marks_;
  Timestamp generated_at_;
};

RequestService::PackageStream::PackageStream(std::unique_ptr<PackageWriter> writer)
    : writer_(std::move(writer)) {}
RequestService::PackageStream::PackageStream(PackageStream&&) noexcept = default;
RequestService::PackageStream& RequestService::PackageStream::operator=(PackageStream&&) noexcept =
    default;
RequestService::PackageStream::~PackageStream() = default;

Status RequestService::PackageStream::Write(const std::function<bool(std::string)>& out) {
  return writer_->Write(out);
}

Result<RequestService::PackageStream> RequestService::StartPackage(SchoolRuntime* school,
                                                                   const RequestInfo& r) {
  auto cp = school->policy();
  PackageFacts facts;
  if (!r.subject.empty()) {
    const SubjectId subject(r.subject);
    std::string after;
    for (;;) {
      auto page = deps_.store.GetRecordsPage(school->id(), subject, after, kPackagePage * 4);
      if (!page.ok()) return page.error();
      if (page->empty()) break;
      for (const auto& row : *page) AddFacts(*cp, row, facts);
      after = page->back().id.value();
    }
  }
  const Timestamp now = deps_.clock.Now();
  auto marks = HeldMarksOf(deps_.store, *school, r.subject, now);
  if (!marks.ok()) return marks.error();
  return PackageStream(std::make_unique<PackageWriter>(*this, school, r, std::move(facts),
                                                       std::move(*marks), now));
}

Result<std::string> RequestService::RecordDecision(const SchoolId& school,
                                                   const Decision& d, const Actor& actor,
                                                   const RequestContext& ctx) {
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  const policy::AutomatedDecisions& ad = (*rt)->policy()->policy().automated_decisions;
  if (d.cls.empty()) return Error::Invalid("class is required", "class");
  if (d.outcome.empty()) return Error::Invalid("outcome is required", "outcome");
  const bool significant = d.cls == "legally_significant" || d.cls == "similarly_significant";
  const bool excepted = Contains(ad.exceptions, d.cls);
  if (!significant && !excepted && d.cls != "no_significant_effect") {
    return Error::Invalid("class must be legally_significant, similarly_significant, "
                          "no_significant_effect or an exception the policy names",
                          "class");
  }
  if (significant && d.decided_by.empty() && !ad.solely_automated_allowed) {
    return Error::Refused("human_decision_required",
                          "a decision with legal or similarly significant effect needs a human "
                          "decision-maker in decided_by (R60)",
                          "decided_by");
  }
  if (!d.decided_by.empty()) {
    auto staff = deps_.store.GetStaff(school, StaffId(d.decided_by));
    if (!staff.ok()) return staff.error();
    if (!*staff || (*staff)->left_at) {
      return Error::Refused("staff_unknown", "decided_by names no current staff member",
                            "decided_by");
    }
  }
  std::string subject_ref;
  if (d.subject) {
    auto row = deps_.store.GetSubject(school, *d.subject);
    if (!row.ok()) return row.error();
    if (!*row) return Error{ErrorCode::kNotFound, "no such subject", "subject", "subject_unknown"};
    auto pseudonym = audit_.Pseudonym(school, *d.subject);
    if (pseudonym.ok()) subject_ref = *pseudonym;
  }
  if (!d.segment.empty()) {
    // R61: placing a subject in a segment is profiling: the policy must declare it, and the
    // gate must allow one of its profiling purposes for this subject now.
    if (auto st = ValidSegment(d.segment); !st.ok()) return st.error();
    if (!d.subject) return Error::Invalid("a segment decision names its subject", "subject");
    if (!ad.profiling || ad.profiling_purposes.empty()) {
      return Error::Refused("profiling_undeclared",
                            "the policy declares no profiling; nobody is placed in segments",
                            "segment");
    }
    auto cp = (*rt)->policy();
    std::string refusal;
    bool allowed = false;
    for (const auto& purpose : ad.profiling_purposes) {
      domain::GateRequest g;
      g.purpose = cp->PurposeIndex(purpose);
      g.operation = domain::Operation::kProfile;
      g.all_fields = true;
      g.now_us = deps_.clock.Now().time_since_epoch().count();
      domain::Decision gd = (*rt)->gate().With(*d.subject, [&](const domain::SubjectState* s) {
        return domain::Decide(cp.get(), s, g);
      });
      if (gd.allowed()) {
        allowed = true;
        break;
      }
      if (refusal.empty()) refusal = domain::ReasonCode(gd.reason);
    }
    if (!allowed) {
      return Error::Denied(refusal, "the gate refuses profiling of this subject: " + refusal);
    }
  }
  const std::string id = "dcs_" + deps_.crypto.NewId();
  AuditEvent a;
  a.actor = actor.AuditName();
  a.role = actor.role;
  a.action = "decision.record";
  a.subject_ref = subject_ref;
  a.outcome = "ok";
  a.reason = d.cls;
  a.decision_id = id;
  a.request_id = ctx.request_id;
  a.detail = Dump({{"class", d.cls},
                   {"decided_by", d.decided_by.empty() ? Json(nullptr) : Json(d.decided_by)},
                   {"model", d.model},
                   {"outcome", d.outcome},
                   {"segment", d.segment.empty() ? Json(nullptr) : Json(d.segment)},
                   {"solely_automated", d.decided_by.empty()}});
  if (auto st = audit_.Record(school, std::move(a)); !st.ok()) return st.error();
  return id;
}

Result<std::vector<std::string>> RequestService::Segments(const SchoolId& school,
                                                         const SubjectId& subject) {
  auto row = deps_.store.GetSubject(school, subject);
  if (!row.ok()) return row.error();
  if (!*row) return Error{ErrorCode::kNotFound, "no such subject", "subject", "subject_unknown"};
  auto pseudonym = audit_.Pseudonym(school, subject);
  if (!pseudonym.ok()) return pseudonym.error();
  std::set<std::string> in;
  int64_t after = 0;
  while (true) {
    auto page = audit_.ForSubject(school, subject, after, 500);
    if (!page.ok()) return page.error();
    for (const auto& a : *page) {
      after = a.seq;
      if (a.action != "decision.record" && a.action != "segment.removed") continue;
      Json detail = Json::parse(a.detail, nullptr, false);
      if (detail.is_discarded() || !detail.contains("segment") || !detail["segment"].is_string()) {
        continue;
      }
      const std::string segment = detail["segment"].get<std::string>();
      if (a.action == "decision.record") {
        in.insert(segment);
      } else {
        in.erase(segment);
      }
    }
    if (page->size() < 500) break;
  }
  return std::vector<std::string>(in.begin(), in.end());
}

Result<std::string> RequestService::SubjectPackage(const SchoolId& school,
                                                   const SubjectId& subject,
                                                   const std::string& lang) {
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  RequestInfo r;
  r.subject = subject.value();
  r.lang = lang;
  return BuildPackage(**rt, r);
}

Result<RequestService::PackageStream> RequestService::Package(const SchoolId& school,
                                                              const std::string& id,
                                                              const Actor& actor,
                                                              const RequestContext& ctx) {
  auto r = Load(school, id);
  if (!r.ok()) return r.error();
  if (r->identity == "required") {
    return Error::Conflict("identity_unverified",
                           "the requester's identity is not confirmed; nothing is released (R37)");
  }
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto package = StartPackage(*rt, *r);
  if (!package.ok()) return package.error();
  AuditEvent a;
  a.actor = actor.AuditName();
  a.role = actor.role;
  a.action = "export";
  if (!r->subject.empty()) {
    auto pseudonym = audit_.Pseudonym(school, SubjectId(r->subject));
    if (pseudonym.ok()) a.subject_ref = *pseudonym;
  }
  a.outcome = "ok";
  a.reason = "access_package";
  a.decision_id = r->id;
  a.request_id = ctx.request_id;
  if (auto st = audit_.Record(school, std::move(a)); !st.ok()) return st.error();
  return package;
}

Result<RequestInfo> RequestService::Complete(const SchoolId& school, const std::string& id,
                                             const CompleteRequest& in, const Actor& actor,
                                             const RequestContext& ctx) {
  std::unique_lock<std::mutex> lock(SchoolMutex(school));
  auto loaded = Load(school, id);
  if (!loaded.ok()) return loaded.error();
  RequestInfo r = std::move(*loaded);
  if (auto st = MustBeOpen(r); !st.ok()) return st.error();
  if (r.state == domain::RequestStateName(RequestState::kAwaitingIdentity)) {
    return Error::Conflict("identity_unverified", "confirm the requester's identity first");
  }
  if (r.state == domain::RequestStateName(RequestState::kAwaitingEvidence)) {
    return Error::Conflict("evidence_missing", "the subject has not supplied the evidence (R46)");
  }
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto cp = (*rt)->policy();
  const policy::Policy& p = cp->policy();
  const Timestamp now = deps_.clock.Now();
  ports::WriteBatch batch;
  const std::string& right = r.right;

  if (right == "access" || right == "information" || right == "transfer_info" ||
      right == "portability") {
    auto package = BuildPackage(**rt, r);
    if (!package.ok()) return package.error();
    std::vector<ports::MailAttachment> files = {
        ports::MailAttachment{"dovira-" + r.id + ".json", "application/json", *package}};
    std::string extra;
    if (right == "portability" && !r.destination_url.empty()) {
      OutMessage m;
      m.request = r.id;
      m.channel = "webhook";
      m.kind = "transfer";
      m.url = r.destination_url;
      m.text = *package;
      auto mid = outbox_.Add(batch, school, m);
      if (!mid.ok()) return mid.error();
      r.tasks.push_back(RequestTask{"recipient:destination", "transmit", "pending", std::nullopt, ""});
    }
    r.decision = in.note;
    if (auto st = Notify(batch, school, r, "answer", extra, files); !st.ok()) return st.error();
    return Close(school, std::move(r), RequestState::kDone, "answered", "{}", actor, ctx,
                 std::move(batch));
  }
  if (right == "rectification") {
    if (in.changes.empty()) {
      return Error::Invalid("changes are required: the corrected value of each field", "changes");
    }
    for (const auto& [field, value] : in.changes) {
      if (!r.fields.empty() && !Contains(r.fields, field)) {
        return Error::Refused("field_not_in_request",
                              "the request does not name \"" + field + "\"", "changes");
      }
    }
    Status st = subjects_.PrepareFieldUpdate(school, SubjectId(r.subject), in.changes, now, batch);
    if (!st.ok()) return st.error();
    r.blocked.clear();  // R46: the block lifts with the correction
    for (const auto& store : cp->stores()) {
      r.tasks.push_back(RequestTask{"store:" + store, "rectify", "done", now, ""});
    }
    // R48: every recipient that received a corrected field is told, with the new value where
    // the policy allows.
    std::vector<std::string> changed;
    for (const auto& [field, value] : in.changes) changed.push_back(field);
    if (auto st = NotifyRecipients(batch, school, r, "rectification", changed, in.changes, actor,
                                   ctx);
        !st.ok()) {
      return st.error();
    }
    if (auto s = Notify(batch, school, r, "action_notice", ""); !s.ok()) return s.error();
    auto closed = Close(school, std::move(r), RequestState::kDone, "rectified", "{}", actor, ctx,
                        std::move(batch));
    if (closed.ok()) subjects_.ForgetRecords(school, SubjectId(closed->subject));
    return closed;
  }
  if (right == "erasure" || right == "unlawful_processing") {
    lock.unlock();
    return Destroy(school, std::move(r), right == "erasure" ? (r.ground.empty() ? "request" : r.ground)
                                                            : "unlawful_processing",
                   actor, ctx);
  }
  if (right == "withdrawal") {
    if (in.storage_needed) {
      // R56: a recorded need to keep: the data stay, restricted to storage.
      if (in.storage_basis.empty()) {
        return Error::Invalid("storage_basis is required with storage_needed", "storage_basis");
      }
      // The basis is a law the policy declares ([[laws]]), as for a legal hold; the letter names
      // it by its title in the request's language.
      auto law = LegalHoldService::LawOf(p, in.storage_basis, "storage_basis");
      if (!law.ok()) return law.error();
      const std::string basis = LegalHoldService::LawTitle(**law, MessageLang(r.lang));
      r.restrict_all = true;
      r.kept.push_back("all: " + in.storage_basis);
      if (auto st = Notify(batch, school, r, "answer", basis); !st.ok()) {
        return st.error();
      }
      return Close(school, std::move(r), RequestState::kDone, "kept_for_storage",
                   Dump({{"basis", in.storage_basis}}), actor, ctx, std::move(batch));
    }
    lock.unlock();
    return Destroy(school, std::move(r), "consent_withdrawn", actor, ctx);
  }
  if (right == "restriction") {
    r.restricted.clear();
    r.restrict_all = false;
    if (auto st = Notify(batch, school, r, "restriction_lifted", ""); !st.ok()) return st.error();
    return Close(school, std::move(r), RequestState::kDone, "lifted", "{}", actor, ctx,
                 std::move(batch));
  }
  if (right == "objection") {
    if (in.decision == "overriding_grounds") {
      if (in.justification.empty()) {
        return Error::Invalid("justification is required for overriding grounds", "justification");
      }
      r.objection_pending.clear();
    } else if (in.decision == "no_overriding_grounds") {
      r.objection_upheld = r.purposes;
      r.objection_pending.clear();
    } else {
      return Error::Invalid("decision must be overriding_grounds or no_overriding_grounds",
                            "decision");
    }
    r.decision = in.decision;
    if (auto st = Notify(batch, school, r, "objection_decided", in.justification); !st.ok()) {
      return st.error();
    }
    if (in.decision == "no_overriding_grounds") {
      if (auto st = Notify(batch, school, r, "erasure_offer", ""); !st.ok()) return st.error();
    }
    return Close(school, std::move(r), RequestState::kDone, in.decision,
                 Dump({{"decision", in.decision}}), actor, ctx, std::move(batch));
  }
  if (right == "automated_decision_review" || right == "complaint") {
    if (in.answer.empty()) {
      return Error::Invalid("answer is required: the written answer sent to the requester",
                            "answer");
    }
    if (actor.kind != Actor::Kind::kStaff) {
      return Error::Denied("staff_only", "a human records this decision (R60, R61)");
    }
    if (r.type == "contest_segment") {
      // R61: the human's decision on the contested segment: "removed" takes the subject out of
      // it (a "segment.removed" entry in the same batch), "kept" leaves them in; either way the
      // decision and the written answer are sent to the subject.
      if (in.decision != "removed" && in.decision != "kept") {
        return Error::Invalid("decision must be removed or kept", "decision");
      }
      r.decision = in.decision;
      if (in.decision == "removed" && !r.subject.empty()) {
        auto pseudonym = audit_.Pseudonym(school, SubjectId(r.subject));
        if (!pseudonym.ok()) return pseudonym.error();
        AuditEvent a;
        a.actor = actor.AuditName();
        a.role = actor.role;
        a.action = "segment.removed";
        a.subject_ref = *pseudonym;
        a.outcome = "ok";
        a.reason = "contest_segment";
        a.request_id = ctx.request_id;
        a.detail = Dump({{"segment", r.segment}, {"request", r.id}, {"decided_by", actor.id}});
        audit_.Add(batch, school, std::move(a));
      }
      if (auto st = Notify(batch, school, r, "segment_decided", in.answer); !st.ok()) {
        return st.error();
      }
      return Close(school, std::move(r), RequestState::kDone, in.decision,
                   Dump({{"decided_by", actor.id},
                         {"decision", in.decision},
                         {"segment", r.segment}}),
                   actor, ctx, std::move(batch));
    }
    r.decision = in.decision;
    if (auto st = Notify(batch, school, r, "answer", in.answer); !st.ok()) return st.error();
    return Close(school, std::move(r), RequestState::kDone, "answered",
                 Dump({{"decided_by", actor.id}, {"decision", in.decision}}), actor, ctx,
                 std::move(batch));
  }
  (void)p;
  if (auto st = Notify(batch, school, r, "answer", in.note); !st.ok()) return st.error();
  return Close(school, std::move(r), RequestState::kDone, "done", "{}", actor, ctx,
               std::move(batch));
}

Result<RequestInfo> RequestService::Reject(const SchoolId& school, const std::string& id,
                                           const std::string& reason, const Actor& actor,
                                           const RequestContext& ctx) {
  if (reason.empty()) {
    return Error{ErrorCode::kInvalidArgument, "reason is required", "reason", "reason_required"};
  }
  std::lock_guard<std::mutex> lock(SchoolMutex(school));
  auto r = Load(school, id);
  if (!r.ok()) return r.error();
  if (auto st = MustBeOpen(*r); !st.ok()) return st.error();
  r->reason = reason;
  // A refused request leaves no block or pending mark behind.
  r->blocked.clear();
  r->restricted.clear();
  r->restrict_all = false;
  r->objection_pending.clear();
  ports::WriteBatch batch;
  if (auto st = Notify(batch, school, *r, "rejected", ""); !st.ok()) return st.error();
  return Close(school, std::move(*r), RequestState::kRejected, "rejected", "{}", actor, ctx,
               std::move(batch));
}

Result<RequestInfo> RequestService::Extend(const SchoolId& school, const std::string& id,
                                           const std::string& reason, const std::string& basis,
                                           const std::string& term_text, const Actor& actor,
                                           const RequestContext& ctx) {
  if (reason.empty()) {
    return Error::Refused("reason_required", "an extension needs a reason", "reason")
        .With("variant", "extension");
  }
  if (basis.empty()) return Error::Refused("basis_required", "an extension needs a legal basis", "basis");
  auto term = calendar::ParseTerm(term_text);
  if (!term.ok()) return Error::Invalid("term: " + term.error().message, "term");
  std::lock_guard<std::mutex> lock(SchoolMutex(school));
  auto r = Load(school, id);
  if (!r.ok()) return r.error();
  if (auto st = MustBeOpen(*r); !st.ok()) return st.error();
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto due = domain::DueAt((*rt)->policy()->calendar(), r->due_at, *term);
  if (!due.ok()) return Error::Invalid("term: " + due.error().message, "term");
  if (*due <= r->due_at) return Error::Refused("term_not_later", "the new due date is not later", "term");
  r->extensions.push_back(RequestInfo::Extension{reason, basis, r->due_at, *due});
  r->due_at = *due;
  r->overdue = deps_.clock.Now() > *due && r->overdue;
  ports::WriteBatch batch;
  Json detail = {{"basis", basis}, {"due_at", FormatTimestamp(*due)}};
  if (auto st = Stage(batch, school, *r, "extended", Dump(detail), actor, ctx, reason); !st.ok()) {
    return st.error();
  }
  if (auto st = Commit(school, *r, std::move(batch)); !st.ok()) return st.error();
  return r;
}

Result<RequestInfo> RequestService::Assign(const SchoolId& school, const std::string& id,
                                           const StaffId& staff, const Actor& actor,
                                           const RequestContext& ctx) {
  auto member = deps_.store.GetStaff(school, staff);
  if (!member.ok()) return member.error();
  if (!*member || (*member)->left_at) {
    return Error{ErrorCode::kNotFound, "no such staff member", "staff", "staff_unknown"};
  }
  std::lock_guard<std::mutex> lock(SchoolMutex(school));
  auto r = Load(school, id);
  if (!r.ok()) return r.error();
  if (auto st = MustBeOpen(*r); !st.ok()) return st.error();
  r->assignee = staff.value();
  ports::WriteBatch batch;
  if (auto st = Stage(batch, school, *r, "assigned", Dump({{"staff", staff.value()}}), actor, ctx);
      !st.ok()) {
    return st.error();
  }
  if (auto st = Commit(school, *r, std::move(batch)); !st.ok()) return st.error();
  return r;
}

Result<RequestInfo> RequestService::Comment(const SchoolId& school, const std::string& id,
                                            const std::string& text, const Actor& actor,
                                            const RequestContext& ctx) {
  if (text.empty()) return Error::Invalid("text is required", "text");
  if (text.size() > 10000) return Error::Invalid("text is longer than 10000 bytes", "text");
  std::lock_guard<std::mutex> lock(SchoolMutex(school));
  auto r = Load(school, id);
  if (!r.ok()) return r.error();
  ports::WriteBatch batch;
  if (auto st = Stage(batch, school, *r, "comment", "{}", actor, ctx, text); !st.ok()) {
    return st.error();
  }
  if (auto st = Commit(school, *r, std::move(batch)); !st.ok()) return st.error();
  return r;
}

Result<RequestInfo> RequestService::ConfirmTask(const SchoolId& school, const std::string& id,
                                                const std::string& target, bool ok,
                                                const std::string& note, const Actor& actor,
                                                const RequestContext& ctx) {
  std::lock_guard<std::mutex> lock(SchoolMutex(school));
  auto r = Load(school, id);
  if (!r.ok()) return r.error();
  auto it = std::find_if(r->tasks.begin(), r->tasks.end(),
                         [&](const RequestTask& t) { return t.target == target; });
  if (it == r->tasks.end()) {
    return Error{ErrorCode::kNotFound, "the request has no task for " + target, "target",
                 "task_unknown"};
  }
  const Timestamp now = deps_.clock.Now();
  it->state = ok ? "done" : "failed";
  it->at = now;
  it->note = note;
  const bool all = std::all_of(r->tasks.begin(), r->tasks.end(),
                               [](const RequestTask& t) { return t.state == "done"; });
  // B03: a request is done only when every store and recipient confirmed. A failure reported
  // after it was done reopens it as partly done, an obligation the deadline job still watches;
  // the last confirmation closes it again, and its lateness counts from then (R68).
  const auto state = domain::ParseRequestState(r->state);
  if (state && !all && *state == RequestState::kDone) {
    r->state = domain::RequestStateName(RequestState::kPartlyDone);
  } else if (state && all && *state == RequestState::kPartlyDone) {
    auto rt = schools_.Get(school);
    if (!rt.ok()) return rt.error();
    r->state = domain::RequestStateName(RequestState::kDone);
    r->closed_at = now;
    r->late_by_days = domain::LateByDays((*rt)->policy()->calendar(), r->due_at, now);
  }
  ports::WriteBatch batch;
  if (auto st = Stage(batch, school, *r, ok ? "task_done" : "task_failed",
                      Dump({{"target", target}}), actor, ctx, note);
      !st.ok()) {
    return st.error();
  }
  if (auto st = Commit(school, *r, std::move(batch)); !st.ok()) return st.error();
  return r;
}

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

// --- The retention job (R50) ---------------------------------------------------------------------

Result<RetentionReport> RequestService::RunRetention(const SchoolId& school,
                                                     const RequestContext& ctx) {
  RetentionReport report;
  if (holds_ == nullptr) return report;
  auto today = holds_->Today(school);
  if (!today.ok()) return today.error();
  // Each round settles what it read, so the next round reads the holds after them; a hold that
  // cannot be settled (a store failure) ends the run with its error.
  for (int round = 0; round < 1000; ++round) {
    auto due = deps_.store.DueLegalHolds(school, *today, 256);
    if (!due.ok()) return due.error();
    if (due->empty()) break;
    // One settlement per deferred request (or per hold that deferred nothing).
    std::map<std::string, std::vector<ports::LegalHoldRow>> by_request;
    for (auto& h : *due) {
      by_request[h.request.empty() ? "hold:" + h.id : h.request].push_back(std::move(h));
    }
    for (auto& [key, holds] : by_request) {
      const std::string request = key.rfind("hold:", 0) == 0 ? std::string() : key;
      if (Status st = SettleHolds(school, request, std::move(holds), *today, report, ctx);
          !st.ok()) {
        return st.error();
      }
    }
  }
  return report;
}

Status RequestService::SettleHolds(const SchoolId& school, const std::string& request,
                                   std::vector<ports::LegalHoldRow> due, const std::string& today,
                                   RetentionReport& report, const RequestContext& ctx) {
  const Actor job = Actor::System("retention");
  const Timestamp now = deps_.clock.Now();
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto cp = (*rt)->policy();
  std::unique_lock<std::mutex> lock(SchoolMutex(school));
  ports::WriteBatch batch;
  bool notify = false;
  Json ended = Json::array();
  for (auto& h : due) {
    if (h.state == "active") {
      h.state = "ended";
      h.closed_at = now;
      h.closed_by = job.AuditName();
      h.close_reason = "the hold's last day (" + h.until + ") has passed";
      ++report.holds_ended;
    }
    h.settled_at = now;
    ++report.holds_settled;
    notify = notify || h.notify_subject;
    ended.push_back({{"hold", h.id}, {"state", h.state}, {"until", h.until}, {"basis", h.basis}});
    holds_->Stage(batch, h, h.state == "ended" ? "end" : "settle", job, ctx);
  }
  std::optional<RequestInfo> loaded;
  if (!request.empty()) {
    auto r = Load(school, request);
    if (!r.ok() && r.error().code != ErrorCode::kNotFound) return r.error();
    if (r.ok()) loaded = std::move(*r);
  }
  if (!loaded || loaded->subject.empty()) {
    // The hold deferred nothing (or its request is gone): the data stay ordinary data.
    return deps_.store.Commit(std::move(batch));
  }
  RequestInfo r = std::move(*loaded);
  const SubjectId subject(r.subject);
  auto records = deps_.store.GetRecords(school, subject);
  if (!records.ok()) return records.error();
  // What other holds in force still keep.
  auto all = deps_.store.ListLegalHolds(school, subject);
  if (!all.ok()) return all.error();
  std::vector<ports::LegalHoldRow> remaining;
  for (const auto& h : *all) {
    const bool settling = std::any_of(due.begin(), due.end(),
                                      [&](const ports::LegalHoldRow& d) { return d.id == h.id; });
    if (!settling && LegalHoldService::InForceOn(h, today)) remaining.push_back(h);
  }
  const std::set<std::string> still = LegalHoldService::HeldFields(remaining);
  std::set<std::string> erase, keep;
  for (const auto& f : r.deferred) (still.count(f) != 0 ? keep : erase).insert(f);
  const bool whole = r.outcome == "partly_erased_held";  // the request erases the subject
  const bool finish = whole && std::none_of(records->begin(), records->end(),
                                            [&](const ports::RecordRow& rec) {
                                              return still.count(rec.field) != 0;
                                            });
  std::vector<std::string> erased_list(erase.begin(), erase.end());
  report.fields_erased += static_cast<int>(erased_list.size());
  const std::string lang = MessageLang(r.lang);
  auto tell = [&](const std::string& extra) -> Status {
    if (!notify || r.reply_email.empty()) return Status::Ok();
    const ports::LegalHoldRow& h = due.front();
    std::string basis = h.basis;
    for (const auto& law : cp->policy().laws) {
      if (law.id == h.basis) basis = law.title.Get(lang);
    }
    OutMessage m = Letter(
        "legal_hold_ended", lang, r.reply_email,
        {{"id", r.id},
         {"type", RequestTypeName(r.type, lang)},
         {"reason", h.reason},
         {"basis", basis},
         {"until", LetterDayText(h.until, lang)},
         {"performed", LetterDate(cp->calendar(), now, lang)},
         {"fields", FieldTitles(cp->policy(), erased_list, lang)},
         {"extra", extra}});
    m.request = r.id;
    auto id = outbox_.Add(batch, school, m);
    if (!id.ok()) return id.error();
    return Status::Ok();
  };
  Json detail = {{"holds", ended}, {"erased", erased_list}, {"still_held", keep},
                 {"erasure_finished", finish}};
  if (finish) {
    r.outcome = "erased";
    r.restricted.clear();
    r.restrict_all = false;
    r.deferred.clear();
    for (auto& t : r.tasks) {
      if (t.target.rfind("store:", 0) == 0 && !t.note.empty()) {
        t.at = now;
        t.note = "held records erased when the hold ended";
      }
    }
    if (auto st = Stage(batch, school, r, "hold_ended", Dump(detail), job, ctx); !st.ok()) {
      return st;
    }
    if (Status st = tell(ErasureCompleteText(lang)); !st.ok()) return st;
    Status st = subjects_.DestroySubject(school, subject, "erasure_after_legal_hold", job, ctx,
                                         std::move(batch), r.id);
    if (!st.ok()) return st;
    {
      std::lock_guard<std::mutex> effects_lock(effects_mu_);
      effects_.erase(school.value() + "|" + r.subject);
    }
    ++report.subjects_erased;
    return Status::Ok();
  }
  for (const auto& rec : *records) {
    if (erase.count(rec.field) != 0) batch.deleted_records.emplace_back(school, rec.id);
  }
  for (const auto& f : erased_list) {
    batch.deleted_field_lookups.push_back(ports::LookupRow{school, f, "", subject});
  }
  r.deferred.assign(keep.begin(), keep.end());
  r.restricted.erase(std::remove_if(r.restricted.begin(), r.restricted.end(),
                                    [&](const std::string& f) { return erase.count(f) != 0; }),
                     r.restricted.end());
  if (auto st = Stage(batch, school, r, "hold_ended", Dump(detail), job, ctx); !st.ok()) return st;
  if (!erased_list.empty()) {
    AuditEvent a;
    a.actor = job.AuditName();
    a.action = "records.erase";
    auto pseudonym = audit_.Pseudonym(school, subject);
    if (pseudonym.ok()) a.subject_ref = *pseudonym;
    a.fields = JoinIds(erased_list);
    a.outcome = "ok";
    a.reason = "legal_hold_ended";
    a.decision_id = r.id;
    a.request_id = ctx.request_id;
    audit_.Add(batch, school, std::move(a));
    if (Status st = tell(""); !st.ok()) return st;
  }
  if (auto st = Commit(school, r, std::move(batch)); !st.ok()) return st;
  subjects_.ForgetRecords(school, subject);
  return Status::Ok();
}

}  // namespace dovira::services
