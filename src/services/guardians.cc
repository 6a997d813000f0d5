#include "services/guardians.h"

#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>

#include "domain/consent_ledger.h"
#include "domain/intake.h"
#include "services/request_texts.h"

namespace dovira::services {
namespace {

using Json = nlohmann::json;

constexpr size_t kMajorityBatch = 200;

std::string SealedAad(const SchoolId& school, const SubjectId& minor, const std::string& id) {
  return "guardianship|" + school.value() + "|" + minor.value() + "|" + id;
}

Json BodyOf(const ports::GuardianshipRow& row) {
  Json body = Json::parse(row.body.empty() ? "{}" : row.body, nullptr, false);
  return body.is_object() ? body : Json::object();
}

std::string Text(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Error NotFound() {
  return Error{ErrorCode::kNotFound, "no such guardianship", "guardianship",
               "guardianship_unknown"};
}

// The gate's re-consent instant for a minor from its guardianships: the majority of one whose
// re-consent is asked for (or not yet asked), unless the now-adult has already answered.
int64_t ReconsentFrom(const domain::CompiledPolicy& cp,
                      const std::vector<ports::GuardianshipRow>& rows) {
  if (!cp.policy().minors.reconsent_at_majority) return domain::kForever;
  int64_t from = domain::kForever;
  for (const auto& r : rows) {
    if (!r.majority_at) continue;
    if (r.reconsent == "confirmed" || r.reconsent == "withdrawn") return domain::kForever;
    from = std::min(from, MicrosOf(*r.majority_at));
  }
  return from;
}

}  // namespace

GuardianshipInfo GuardianshipInfoOf(const domain::CompiledPolicy& cp,
                                    const ports::GuardianshipRow& row, Timestamp now) {
  GuardianshipInfo g;
  const Json body = BodyOf(row);
  g.id = row.id;
  g.minor = row.minor;
  g.relation = Text(body, "relation");
  g.permission_at = Text(body, "permission_at");
  g.document = Text(body, "document");
  g.state = row.state;
  g.method = row.method;
  g.verified_at = row.verified_at;
  g.verified_by = row.verified_by;
  g.majority_at = row.majority_at;
  if (row.majority_at) {
    g.majority_on = calendar::FormatDate(cp.calendar().LocalDate(
        std::chrono::time_point_cast<std::chrono::seconds>(*row.majority_at)));
  }
  g.active = !row.majority_at || now < *row.majority_at;
  g.reconsent = row.reconsent;
  g.reconsent_at = row.reconsent_at;
  g.decided_at = row.decided_at;
  return g;
}

std::string RepresentativeEvidence(const GuardianshipInfo& g) {
  Json j = {{"guardianship", g.id},
            {"relation", g.relation},
            {"permission_at", g.permission_at},
            {"verification", g.state == "verified" ? g.method : std::string("unverified")},
            {"valid_until", g.majority_on.empty() ? Json(nullptr) : Json(g.majority_on)}};
  return j.dump();
}

ports::GuardianshipRow NewGuardianship(ports::Crypto& crypto, const ports::SecretKey& minor_key,
                                       const SchoolId& school, const SubjectId& minor,
                                       const domain::Representative& rep,
                                       const std::string& email_token,
                                       std::optional<Timestamp> majority_at,
                                       const std::string& document, Timestamp now) {
  ports::GuardianshipRow row;
  row.school = school;
  row.id = crypto.NewId();
  row.minor = minor;
  row.email_token = email_token;
  row.state = "unverified";
  row.majority_at = majority_at;
  Json body = {{"relation", rep.relation}, {"permission_at", rep.permission_at}};
  if (!document.empty()) body["document"] = document;
  row.body = body.dump();
  const Json sealed = {{"name", rep.name}, {"email", rep.email}};
  row.sealed = crypto.Seal(minor_key, sealed.dump(), SealedAad(school, minor, row.id));
  row.created_at = now;
  row.updated_at = now;
  return row;
}

GuardianService::GuardianService(Deps deps, Schools& schools, SubjectService& subjects,
                                 AuditLog& audit, Outbox& outbox)
    : deps_(deps), schools_(schools), subjects_(subjects), audit_(audit), outbox_(outbox) {}

Status GuardianService::LoadSubjectGate(SchoolRuntime& school, const SubjectId& subject,
                                        domain::SubjectState& state) {
  auto cp = school.policy();
  if (!cp) return Error::Unavailable("the school has no policy loaded");
  auto rows = deps_.store.MinorGuardianships(school.id(), subject);
  if (!rows.ok()) return rows.error();
  state.reconsent_from_us = rows->empty() ? domain::kForever : ReconsentFrom(*cp, *rows);
  return Status::Ok();
}

Status GuardianService::Refresh(SchoolRuntime& school, const SubjectId& subject) {
  auto cp = school.policy();
  auto rows = deps_.store.MinorGuardianships(school.id(), subject);
  if (!rows.ok()) return rows.error();
  auto ledger = deps_.store.GetConsents(school.id(), subject);
  if (!ledger.ok()) return ledger.error();
  std::vector<domain::LedgerEntry> entries;
  for (const auto& c : *ledger) {
    entries.push_back(domain::LedgerEntry{
        c.consent_type, c.grants, c.action == "withdraw", MicrosOf(c.at),
        c.expires_at ? MicrosOf(*c.expires_at) : domain::kForever});
  }
  auto windows = domain::ConsentWindows(*cp, entries);
  const int64_t from = ReconsentFrom(*cp, *rows);
  school.gate().Update(subject, [&](domain::SubjectState& s) {
    s.consents = windows;
    s.reconsent_from_us = from;
  });
  return Status::Ok();
}

Result<std::vector<GuardianshipInfo>> GuardianService::ForMinor(const SchoolId& school,
                                                                const SubjectId& minor,
                                                                const Actor& actor,
                                                                const RequestContext& ctx) {
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto subject = deps_.store.GetSubject(school, minor);
  if (!subject.ok()) return subject.error();
  if (!*subject) {
    return Error{ErrorCode::kNotFound, "no such subject", "subject", "subject_unknown"};
  }
  auto rows = deps_.store.MinorGuardianships(school, minor);
  if (!rows.ok()) return rows.error();
  const Timestamp now = deps_.clock.Now();
  std::vector<GuardianshipInfo> out;
  for (const auto& r : *rows) out.push_back(GuardianshipInfoOf(*(*rt)->policy(), r, now));
  AuditEvent e;
  e.actor = actor.AuditName();
  e.role = actor.role;
  e.action = "guardianship.list";
  e.subject_ref = (*subject)->pseudonym;
  e.outcome = "ok";
  e.request_id = ctx.request_id;
  (void)audit_.Record(school, std::move(e));
  return out;
}

Result<GuardianshipInfo> GuardianService::VerifyByDocument(const SchoolId& school,
                                                           const std::string& id,
                                                           const std::string& document,
                                                           const Actor& actor,
                                                           const RequestContext& ctx) {
  if (actor.kind != Actor::Kind::kStaff) {
    return Error::Denied("staff_only", "a document check is recorded by staff");
  }
  if (document.empty() || document.size() > 200) {
    return Error::Invalid("document is required: the reference of the document checked (at most "
                          "200 characters)",
                          "document");
  }
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto found = deps_.store.GetGuardianship(school, id);
  if (!found.ok()) return found.error();
  if (!*found) return NotFound();
  const Timestamp now = deps_.clock.Now();
  ports::GuardianshipRow row = **found;
  Json body = BodyOf(row);
  body["document"] = document;
  row.body = body.dump();
  row.state = "verified";
  row.method = "document";
  row.verified_at = now;
  row.verified_by = actor.AuditName();
  row.updated_at = now;
  ports::WriteBatch batch;
  batch.guardianships.push_back(row);
  AuditEvent e;
  e.actor = actor.AuditName();
  e.role = actor.role;
  e.action = "guardianship.verify";
  auto pseudonym = audit_.Pseudonym(school, row.minor);
  if (pseudonym.ok()) e.subject_ref = *pseudonym;
  e.outcome = "ok";
  e.reason = "document";
  e.request_id = ctx.request_id;
  e.detail = "{\"guardianship\":" + JsonQuote(row.id) + "}";
  audit_.Add(batch, school, std::move(e));
  if (Status c = deps_.store.Commit(std::move(batch)); !c.ok()) return c.error();
  return GuardianshipInfoOf(*(*rt)->policy(), row, now);
}

Status GuardianService::VerifyByEmail(const SchoolId& school, const std::string& email_token,
                                      ports::WriteBatch& batch) {
  if (email_token.empty()) return Status::Ok();
  auto rows = deps_.store.GuardianshipsByEmail(school, email_token);
  if (!rows.ok()) return rows.error();
  const Timestamp now = deps_.clock.Now();
  for (auto row : *rows) {
    if (row.state == "verified") continue;
    row.state = "verified";
    row.method = "email_code";
    row.verified_at = now;
    row.verified_by = "guardian:" + row.id;
    row.updated_at = now;
    AuditEvent e;
    e.actor = "guardian:" + row.id;
    e.action = "guardianship.verify";
    auto pseudonym = audit_.Pseudonym(school, row.minor);
    if (pseudonym.ok()) e.subject_ref = *pseudonym;
    e.outcome = "ok";
    e.reason = "email_code";
    e.detail = "{\"guardianship\":" + JsonQuote(row.id) + "}";
    audit_.Add(batch, school, std::move(e));
    batch.guardianships.push_back(std::move(row));
  }
  return Status::Ok();
}

Result<bool> GuardianService::IsRepresentative(const SchoolId& school,
                                               const std::string& email_token) {
  if (email_token.empty()) return false;
  auto rows = deps_.store.GuardianshipsByEmail(school, email_token);
  if (!rows.ok()) return rows.error();
  return !rows->empty();
}

Result<std::vector<GuardianLink>> GuardianService::Links(const SchoolId& school,
                                                         const std::string& email_token) {
  std::vector<GuardianLink> out;
  if (email_token.empty()) return out;
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto cp = (*rt)->policy();
  auto rows = deps_.store.GuardianshipsByEmail(school, email_token);
  if (!rows.ok()) return rows.error();
  const Timestamp now = deps_.clock.Now();
  for (const auto& r : *rows) {
    GuardianLink link;
    link.guardianship = GuardianshipInfoOf(*cp, r, now);
    if (!link.guardianship.active) continue;
    // The minor's name, as on file, so the guardian sees whom they act for.
    auto records = subjects_.OpenAll(school, r.minor);
    if (records.ok()) {
      std::string first, last;
      for (const auto& rec : *records) {
        if (rec.row.field == "first_name" && first.empty()) first = rec.value;
        if (rec.row.field == "last_name" && last.empty()) last = rec.value;
      }
      link.name = first + (first.empty() || last.empty() ? "" : " ") + last;
    }
    out.push_back(std::move(link));
  }
  return out;
}

Result<GuardianshipInfo> GuardianService::Link(const SchoolId& school,
                                               const std::string& email_token,
                                               const SubjectId& minor) {
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto rows = deps_.store.MinorGuardianships(school, minor);
  if (!rows.ok()) return rows.error();
  const Timestamp now = deps_.clock.Now();
  bool ended = false;
  for (const auto& r : *rows) {
    if (email_token.empty() || r.email_token != email_token) continue;
    GuardianshipInfo g = GuardianshipInfoOf(*(*rt)->policy(), r, now);
    if (g.active) return g;
    ended = true;
  }
  if (ended) {
    return Error::Denied("guardian_access_ended",
                         "the person has come of age: a representative no longer acts for them");
  }
  return Error::Denied("not_linked", "you are not the legal representative of this person");
}

Result<std::string> GuardianService::RepresentativeEmail(const SchoolId& school,
                                                         const std::string& id) {
  auto found = deps_.store.GetGuardianship(school, id);
  if (!found.ok()) return found.error();
  if (!*found) return NotFound();
  const ports::GuardianshipRow& row = **found;
  auto key = subjects_.SubjectKey(school, row.minor);
  if (!key.ok()) return key.error();
  auto plain = deps_.crypto.Open(*key, row.sealed, SealedAad(school, row.minor, row.id));
  if (!plain.ok()) return plain.error();
  Json sealed = Json::parse(*plain, nullptr, false);
  if (!sealed.is_object()) return Error{ErrorCode::kInternal, "a guardianship's sealed part is unreadable"};
  return Text(sealed, "email");
}

Result<MajorityReport> GuardianService::RunMajorities(const SchoolId& school,
                                                      const RequestContext& ctx) {
  MajorityReport report;
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto cp = (*rt)->policy();
  if (!cp->policy().minors.reconsent_at_majority) return report;
  const Timestamp now = deps_.clock.Now();
  const Actor job = Actor::System("majority");
  for (;;) {
    auto due = deps_.store.DueMajorities(school, now, kMajorityBatch);
    if (!due.ok()) return due.error();
    if (due->empty()) break;
    for (auto row : *due) {
      ports::WriteBatch batch;
      std::vector<ports::GuardianshipRow> siblings;
      auto all = deps_.store.MinorGuardianships(school, row.minor);
      if (!all.ok()) return all.error();
      // One request to the subject, whichever of their guardianships comes due first; the
      // others are closed with it.
      bool answered = false;
      for (const auto& g : *all) {
        if (g.reconsent == "confirmed" || g.reconsent == "withdrawn") answered = true;
      }
      for (auto g : *all) {
        if (g.reconsent != "") continue;
        g.reconsent = answered ? "confirmed" : "pending";
        g.reconsent_at = now;
        g.updated_at = now;
        batch.guardianships.push_back(std::move(g));
      }
      if (!answered) {
        // The now-adult is asked at the address on file, in their language.
        std::string to;
        auto records = subjects_.OpenAll(school, row.minor);
        if (records.ok()) {
          for (const auto& rec : *records) {
            const int fi = cp->FieldIndex(rec.row.field);
            if (fi >= 0 && cp->field(static_cast<size_t>(fi)).type == "email") to = rec.value;
          }
        }
        std::string lang = cp->policy().school.authoritative_language;
        auto subject = deps_.store.GetSubject(school, row.minor);
        auto key = subjects_.SubjectKey(school, row.minor);
        if (subject.ok() && *subject && key.ok() && !(*subject)->sealed_profile.empty()) {
          auto plain = deps_.crypto.Open(*key, (*subject)->sealed_profile,
                                         "profile|" + school.value() + "|" + row.minor.value());
          if (plain.ok()) {
            const std::string l = DecodeProfile(*plain).lang;
            if (!l.empty()) lang = l;
          }
        }
        if (!to.empty()) {
          const std::string l = MessageLang(lang);
          OutMessage m = Letter("reconsent_required", l, to,
                                {{"school", cp->policy().school.name.Get(l)}});
          auto id = outbox_.Add(batch, school, m);
          if (!id.ok()) return id.error();
        }
        AuditEvent e;
        e.actor = job.AuditName();
        e.action = "minor.majority";
        auto pseudonym = audit_.Pseudonym(school, row.minor);
        if (pseudonym.ok()) e.subject_ref = *pseudonym;
        e.outcome = "ok";
        e.reason = "reconsent_required";
        e.request_id = ctx.request_id;
        e.detail = "{\"guardianship\":" + JsonQuote(row.id) + ",\"notified\":" +
                   (to.empty() ? "false" : "true") + "}";
        audit_.Add(batch, school, std::move(e));
        ++report.reconsent_opened;
      }
      if (Status st = deps_.store.Commit(std::move(batch)); !st.ok()) return st.error();
      if (Status st = Refresh(**rt, row.minor); !st.ok()) return st.error();
    }
  }
  return report;
}

Result<ReconsentState> GuardianService::Reconsent(const SchoolId& school,
                                                  const SubjectId& subject) {
  ReconsentState out;
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  if (!(*rt)->policy()->policy().minors.reconsent_at_majority) return out;
  auto rows = deps_.store.MinorGuardianships(school, subject);
  if (!rows.ok()) return rows.error();
  const Timestamp now = deps_.clock.Now();
  for (const auto& r : *rows) {
    if (r.reconsent == "confirmed" || r.reconsent == "withdrawn") {
      return ReconsentState{r.reconsent, r.decided_at};
    }
    // Due from the first instant of the day of majority, whether or not the job has run yet.
    if (r.majority_at && *r.majority_at <= now) {
      out.state = "pending";
      out.since = r.majority_at;
    }
  }
  return out;
}

Result<ports::GuardianshipRow> GuardianService::PendingRow(const SchoolId& school,
                                                           const SubjectId& subject) {
  auto state = Reconsent(school, subject);
  if (!state.ok()) return state.error();
  if (state->state != "pending") {
    return Error::Conflict("reconsent_not_pending",
                           "no confirmation of consent is awaited from this person");
  }
  auto rows = deps_.store.MinorGuardianships(school, subject);
  if (!rows.ok()) return rows.error();
  return rows->front();
}

Result<std::vector<ConsentReceipt>> GuardianService::Confirm(const SchoolId& school,
                                                             const SubjectId& subject,
                                                             const std::string& channel,
                                                             const std::string& lang,
                                                             const Actor& actor,
                                                             const RequestContext& ctx) {
  if (!actor.guardianship.empty()) {
    return Error::Denied("not_the_subject", "only the now-adult confirms their own consent");
  }
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto pending = PendingRow(school, subject);
  if (!pending.ok()) return pending.error();
  auto cp = (*rt)->policy();
  const policy::Policy& pol = cp->policy();
  const Timestamp now = deps_.clock.Now();
  auto ledger = deps_.store.GetConsents(school, subject);
  if (!ledger.ok()) return ledger.error();
  // The latest row of each consent type; a grant still in force is confirmed with its own text.
  std::map<std::string, const ports::ConsentRow*> last;
  for (const auto& c : *ledger) last[c.consent_type] = &c;
  auto pseudonym = audit_.Pseudonym(school, subject);
  if (!pseudonym.ok()) return pseudonym.error();
  ports::WriteBatch batch;
  std::vector<ConsentReceipt> out;
  for (const auto& [type, row] : last) {
    if (row->action != "grant" || (row->expires_at && *row->expires_at <= now)) continue;
    ports::ConsentRow cr = *row;
    cr.id = ConsentId(deps_.crypto.NewId());
    cr.channel = channel;
    cr.form.clear();
    cr.policy_version = (*rt)->version();
    cr.given_by = "subject";
    cr.guardian.reset();
    cr.evidence = "{\"ip\":" + JsonQuote(TruncateIp(ctx.ip)) + ",\"reconsent\":" +
                  JsonQuote(pending->id) + "}";
    cr.at = now;
    auto ct = pol.consents.find(type);
    out.push_back(ReceiptOf(cr, ct == pol.consents.end()
                                    ? std::string()
                                    : ct->second.withdrawal_procedure.Get(
                                          lang, pol.school.authoritative_language)));
    AuditEvent e;
    e.actor = actor.AuditName();
    e.role = actor.role;
    e.action = "consent.grant";
    e.subject_ref = *pseudonym;
    e.purpose = JoinIds(cr.grants);
    e.outcome = "ok";
    e.reason = "reconsent";
    e.request_id = ctx.request_id;
    e.detail = "{\"consent_id\":" + JsonQuote(cr.id.value()) + ",\"consent\":" +
               JsonQuote(cr.consent_type) + ",\"text_sha256\":" + JsonQuote(cr.text_sha256) + "}";
    audit_.Add(batch, school, std::move(e));
    batch.consents.push_back(std::move(cr));
  }
  auto rows = deps_.store.MinorGuardianships(school, subject);
  if (!rows.ok()) return rows.error();
  for (auto r : *rows) {
    r.reconsent = "confirmed";
    if (!r.reconsent_at) r.reconsent_at = now;
    r.decided_at = now;
    r.updated_at = now;
    batch.guardianships.push_back(std::move(r));
  }
  AuditEvent e;
  e.actor = actor.AuditName();
  e.role = actor.role;
  e.action = "reconsent.confirm";
  e.subject_ref = *pseudonym;
  e.outcome = "ok";
  e.request_id = ctx.request_id;
  e.detail = "{\"consents\":" + std::to_string(out.size()) + "}";
  audit_.Add(batch, school, std::move(e));
  if (Status st = deps_.store.Commit(std::move(batch)); !st.ok()) return st.error();
  if (Status st = Refresh(**rt, subject); !st.ok()) return st.error();
  return out;
}

Status GuardianService::MarkWithdrawn(const SchoolId& school, const SubjectId& subject,
                                      const Actor& actor, const RequestContext& ctx) {
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto pending = PendingRow(school, subject);
  if (!pending.ok()) return pending.error();
  const Timestamp now = deps_.clock.Now();
  auto rows = deps_.store.MinorGuardianships(school, subject);
  if (!rows.ok()) return rows.error();
  ports::WriteBatch batch;
  for (auto r : *rows) {
    r.reconsent = "withdrawn";
    if (!r.reconsent_at) r.reconsent_at = now;
    r.decided_at = now;
    r.updated_at = now;
    batch.guardianships.push_back(std::move(r));
  }
  AuditEvent e;
  e.actor = actor.AuditName();
  e.role = actor.role;
  e.action = "reconsent.withdraw";
  auto pseudonym = audit_.Pseudonym(school, subject);
  if (pseudonym.ok()) e.subject_ref = *pseudonym;
  e.outcome = "ok";
  e.request_id = ctx.request_id;
  audit_.Add(batch, school, std::move(e));
  if (Status st = deps_.store.Commit(std::move(batch)); !st.ok()) return st.error();
  return Refresh(**rt, subject);
}

}  // namespace dovira::services
