// Filing a request (the due date, identity, the fee, the effects that start at filing) and the
// steps before its completion: identity codes, evidence; reading requests and their timeline.
#include "services/requests.h"

#include <algorithm>
#include <tuple>

#include "calendar/term.h"
#include "domain/intake.h"
#include "services/request_internal.h"
#include "services/request_texts.h"

namespace dovira::services {

using namespace request_internal;  // NOLINT(google-build-using-namespace)
using domain::RequestState;

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
  // R26: a report about a child's data comes from anyone (a parent, a teacher, a stranger): its
  // filer is a reporter, never the subject, and only such a report has one.
  const bool report = in.type == "child_data_report";
  if (in.filed_by != "subject" && in.filed_by != "representative" && in.filed_by != "staff" &&
      !(report && in.filed_by == "reporter")) {
    return Error::Invalid(report ? "filed_by must be reporter, representative or staff"
                                 : "filed_by must be subject, representative or staff",
                          "filed_by");
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
  } else if (in.type != "unlawful_processing" && in.type != "claim" && in.type != "complaint" &&
             !report) {
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
  const policy::Right* right = p.FindRight(r.right);
  // R49: an erasure states one of the grounds the policy lists. A policy that lists none
  // (000, 002, 003) accepts an erasure on any ground, or on none stated.
  if (r.right == "erasure" && right != nullptr && !right->grounds.empty() &&
      std::find(right->grounds.begin(), right->grounds.end(), in.ground) ==
          right->grounds.end()) {
    std::string listed;
    for (const auto& g : right->grounds) listed += (listed.empty() ? "" : ",") + g;
    Error e = Error::Refused("erasure_ground_unknown",
                             (in.ground.empty() ? std::string("no ground stated")
                                                : "the policy lists no ground \"" + in.ground + "\"") +
                                 "; accepted grounds: " + listed,
                             "ground");
    e.args = {{"grounds", listed}};
    return e;
  }
  // R58: the policy's consequence notice must be acknowledged before a withdrawal or an erasure.
  const policy::LocalText* notice = r.right == "withdrawal" ? &p.withdrawal.consequence_notice
                                    : r.right == "erasure" && right != nullptr
                                        ? &right->consequence_notice
                                        : nullptr;
  if (notice != nullptr && notice->empty()) notice = nullptr;
  if (notice != nullptr && !in.acknowledged_warning) {
    Error e = Error::Conflict("acknowledgement_required", notice->Get("uk") + "\n" +
                                                              notice->Get("ru") + "\n" +
                                                              notice->Get("en"));
    e.field = "acknowledged_warning";
    e.args = {{"right", r.right}};
    return e;
  }

  // R62, R05: a right the policy gives through its EU overlay alone (004 §16.3.7) is for the
  // subjects the overlay's trigger brings in: EU/EEA residence, citizenship or either on file.
  if (right != nullptr && right->scope == "eu_overlay" && !r.subject.empty()) {
    auto summary = subjects_.Get(school, SubjectId(r.subject), Actor::System("requests"), {});
    if (!summary.ok()) return summary.error();
    if (!domain::RightApplies(p, *right, summary->country, summary->citizenship)) {
      auto or_none = [](const std::string& c) { return c.empty() ? std::string("none") : c; };
      return Error::Refused("eu_subjects_only",
                            "\"" + in.type + "\" is a right of EU/EEA subjects (by " +
                                p.eu_overlay.trigger + "); on file: residence " +
                                or_none(summary->country) + ", citizenship " +
                                or_none(summary->citizenship),
                            "type");
    }
  }
  // Identity (R37): required by the policy, or the request did not come from the subject's own
  // account or a staff member who took it from the address on file.
  const bool self_or_staff =
      actor.kind == Actor::Kind::kSubject || actor.kind == Actor::Kind::kStaff ||
      actor.kind == Actor::Kind::kApiKey || actor.kind == Actor::Kind::kSystem;
  bool needs_identity = false;
  // A report is not the subject asking for their own data: nothing is released to the reporter,
  // so there is no identity to confirm (R26).
  if (!r.subject.empty() && !report) {
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
  if (r.subject.empty() && r.right != "complaint" && r.right != "unlawful_processing" && !report) {
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
  if (r.assignee.empty()) {
    // R04: every request goes to the person the policy names as responsible for subject rights,
    // through the staff account that has that person's address (unassigned until one exists).
    if (auto st = AssignResponsible(school, p, r); !st.ok()) return st.error();
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
  FilingEffect effect;
  if (r.right == "withdrawal") {
    if (needs_identity) {
      return Error::Refused("identity_required",
                            "a withdrawal is taken by staff from the subject's own address or "
                            "through the personal account",
                            "email");
    }
    if (auto st = WithdrawAtFiling(school, *cp, r, received, batch, actor, ctx, effect); !st.ok()) {
      return st.error();
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
  if (notice != nullptr) {
    // R58: which text was acknowledged: its SHA-256 (the text in the request's language, as the
    // cabinet shows it) and the policy version it came from.
    const std::string shown = notice->Get(r.lang, p.school.authoritative_language);
    detail["acknowledged"] = {{"sha256", ports::ToHex(deps_.crypto.Sha256(shown))},
                              {"lang", r.lang},
                              {"policy_version", (*rt)->version()}};
  }
  if (!r.assignee.empty()) detail["assignee"] = r.assignee;
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
  if (effect.destroy_now) {
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
  if (effect.forget_records) {
    // R57: the answer says what was destroyed and what was kept, and why.
    std::string extra = "destroyed: " + (r.fields.empty() ? std::string("-") : Join(r.fields));
    for (const auto& k : r.kept) extra += "\nkept (restricted to storage): " + k;
    if (!effect.held_extra.empty()) extra += "\n" + effect.held_extra;
    if (auto st = Notify(batch, school, r, "answer", extra); !st.ok()) return st.error();
  }
  if (!code.empty()) {
    if (auto st = MailCode(batch, school, r, on_file, code); !st.ok()) return st.error();
  }
  if (auto st = Commit(school, r, std::move(batch)); !st.ok()) return st.error();
  if (effect.forget_records) subjects_.ForgetRecords(school, SubjectId(r.subject));
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

Status RequestService::AssignResponsible(const SchoolId& school, const policy::Policy& p,
                                         RequestInfo& r) {
  auto address = domain::NormaliseEmail(p.officers.responsible_person.email);
  if (!address) return Status::Ok();
  auto staff = deps_.store.FindStaffByEmail(school, *address);
  if (!staff.ok()) return staff.error();
  if (*staff && !(*staff)->left_at) r.assignee = (*staff)->id.value();
  return Status::Ok();
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

}  // namespace dovira::services
