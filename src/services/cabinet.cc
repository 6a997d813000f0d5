#include "services/cabinet.h"

#include <algorithm>
#include <chrono>
#include <set>

#include <nlohmann/json.hpp>

#include "domain/intake.h"
#include "services/request_texts.h"
#include "services/retention.h"

namespace dovira::services {
namespace {

using Json = nlohmann::ordered_json;

constexpr size_t kTokenBytes = 32;
constexpr std::chrono::hours kSessionLifetime{12};

Error SessionInvalid() {
  Error e = Error::Unauthenticated("sign in to the personal account first (the session is missing, "
                                   "expired or ended)");
  e.reason = "session_invalid";
  return e;
}

}  // namespace

Actor SubjectSession::ToActor() const {
  Actor a;
  a.kind = Actor::Kind::kSubject;
  a.id = subject.value();
  a.guardianship = guardianship;
  return a;
}

CabinetService::CabinetService(Deps deps, Schools& schools, SubjectService& subjects,
                               AuditLog& audit, Outbox& outbox, GuardianService& guardians,
                               RetentionService& retention)
    : deps_(deps),
      schools_(schools),
      subjects_(subjects),
      audit_(audit),
      outbox_(outbox),
      guardians_(guardians),
      retention_(retention) {}

Result<std::string> CabinetService::BeginSignIn(const SchoolId& school, const std::string& email,
                                                const std::string& lang,
                                                const RequestContext& ctx) {
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto normalised = domain::NormaliseEmail(email);
  if (!normalised) return Error::Invalid("not an e-mail address", "email");
  auto token = subjects_.LookupToken(school, "email", *normalised);
  if (!token.ok()) return token.error();
  auto found = deps_.store.FindByLookup(school, "email", *token);
  if (!found.ok()) return found.error();
  // A minor's representative signs in with the address on file, holding data of their own or not.
  auto representative = guardians_.IsRepresentative(school, *token);
  if (!representative.ok()) return representative.error();
  const bool known = found->has_value() || *representative;

  const Timestamp now = deps_.clock.Now();
  const std::string login_id = RandomHex(deps_.crypto, kTokenBytes);
  const std::string code = OneTimeCode(deps_.crypto);
  ports::SubjectSessionRow row;
  row.token_hash = HashHex(deps_.crypto, login_id);
  row.school = school;
  row.subject = *found ? **found : SubjectId("");
  row.email_token = known ? *token : std::string();
  row.state = "pending";
  row.code_hash = HashHex(deps_.crypto, login_id + "|" + code);
  row.created_at = now;
  row.expires_at = now + kCodeLifetime;
  ports::WriteBatch batch;
  batch.subject_sessions.push_back(row);
  if (known) {
    auto cp = (*rt)->policy();
    const std::string l = MessageLang(lang);
    OutMessage m = Letter("sign_in_code", l, *normalised,
                          {{"code", code},
                           {"school", cp->policy().school.name.Get(l)},
                           {"minutes", std::to_string(kCodeLifetime.count())}});
    auto id = outbox_.Add(batch, school, m);
    if (!id.ok()) return id.error();
    AuditEvent a;
    a.actor = "subject";  // named by the entry's pseudonym, never by id
    a.action = "cabinet.sign_in_code";
    if (*found) {
      auto pseudonym = audit_.Pseudonym(school, **found);
      if (pseudonym.ok()) a.subject_ref = *pseudonym;
    } else {
      a.actor = "guardian";  // a representative with no data of their own: no subject to name
    }
    a.outcome = "ok";
    a.request_id = ctx.request_id;
    audit_.Add(batch, school, std::move(a));
  }
  if (auto st = deps_.store.Commit(std::move(batch)); !st.ok()) return st.error();
  return login_id;
}

Result<SubjectSignIn> CabinetService::CompleteSignIn(const SchoolId& school,
                                                     const std::string& login_id,
                                                     const std::string& code,
                                                     const RequestContext& ctx) {
  auto invalid = [] {
    return Error::Denied("code_invalid",
                         "the code is wrong, expired or was tried too often; ask for a new one");
  };
  if (login_id.size() != 2 * kTokenBytes) return invalid();
  const std::string hash = HashHex(deps_.crypto, login_id);
  auto row = deps_.store.GetSubjectSession(hash);
  if (!row.ok()) return row.error();
  const Timestamp now = deps_.clock.Now();
  if (!*row || (*row)->state != "pending" || (*row)->school != school ||
      (*row)->expires_at <= now || (*row)->attempts >= kMaxCodeAttempts) {
    return invalid();
  }
  ports::SubjectSessionRow pending = **row;
  const bool match = (!pending.subject.value().empty() || !pending.email_token.empty()) &&
                     deps_.crypto.Equal(HashHex(deps_.crypto, login_id + "|" + code),
                                        pending.code_hash);
  ports::WriteBatch batch;
  if (!match) {
    ++pending.attempts;
    batch.subject_sessions.push_back(pending);
    if (auto st = deps_.store.Commit(std::move(batch)); !st.ok()) return st.error();
    return invalid();
  }
  SubjectSignIn out;
  out.token = RandomHex(deps_.crypto, kTokenBytes);
  ports::SubjectSessionRow session;
  session.token_hash = HashHex(deps_.crypto, out.token);
  session.school = school;
  session.subject = pending.subject;
  session.state = "active";
  session.csrf_token = RandomHex(deps_.crypto, kTokenBytes);
  session.created_at = now;
  session.expires_at = now + kSessionLifetime;
  session.email_token = pending.email_token;
  batch.deleted_subject_sessions.push_back(hash);
  batch.subject_sessions.push_back(session);
  out.session = SubjectSession{school,         session.subject,       session.subject,
                               session.email_token, "",              session.csrf_token,
                               session.expires_at};
  // The code reached the representative's address on file: their permission is verified (B06).
  if (Status st = guardians_.VerifyByEmail(school, session.email_token, batch); !st.ok()) {
    return st.error();
  }
  if (!session.subject.value().empty()) {
    // R71: signing in is a use; an inactivity term counts from the last one. Recorded before the
    // session, so that no one is signed in whose use was not counted.
    Status used = retention_.RecordEvent(school, session.subject, "last_use", now,
                                         out.session.ToActor(), ctx);
    if (!used.ok()) return used.error().code == ErrorCode::kNotFound ? invalid() : used.error();
    Audit(batch, out.session, "login", "", "email_code", ctx);
  }
  if (auto st = deps_.store.Commit(std::move(batch)); !st.ok()) return st.error();
  return out;
}

Result<SubjectSession> CabinetService::Authenticate(const std::string& token) {
  if (token.size() != 2 * kTokenBytes) return SessionInvalid();
  auto row = deps_.store.GetSubjectSession(HashHex(deps_.crypto, token));
  if (!row.ok()) return row.error();
  if (!*row || (*row)->state != "active" || (*row)->expires_at <= deps_.clock.Now()) {
    return SessionInvalid();
  }
  const ports::SubjectSessionRow& r = **row;
  SubjectSession out{r.school, r.subject, r.subject, r.email_token, "", r.csrf_token, r.expires_at};
  if (!r.acting_for.empty()) {
    // Checked on every call: the link ends at the minor's majority (or with the minor).
    auto link = guardians_.Link(r.school, r.email_token, SubjectId(r.acting_for));
    if (link.ok()) {
      out.subject = SubjectId(r.acting_for);
      out.guardianship = link->id;
    } else if (link.error().code != ErrorCode::kPermissionDenied) {
      return link.error();
    }
  }
  return out;
}

Result<SubjectSession> CabinetService::ActFor(const std::string& token, const std::string& minor,
                                              const RequestContext& ctx) {
  auto session = Authenticate(token);
  if (!session.ok()) return session.error();
  auto row = deps_.store.GetSubjectSession(HashHex(deps_.crypto, token));
  if (!row.ok()) return row.error();
  if (!*row) return SessionInvalid();
  ports::SubjectSessionRow updated = **row;
  SubjectSession out = *session;
  ports::WriteBatch batch;
  if (minor.empty()) {
    if (session->self.value().empty()) {
      return Error::Refused("no_own_data",
                            "you hold no data of your own at the school: choose whom you act for",
                            "subject");
    }
    out.subject = session->self;
    out.guardianship.clear();
    updated.acting_for.clear();
    Audit(batch, out, "cabinet.act_for_self", "", "", ctx);
  } else {
    auto link = guardians_.Link(session->school, session->email_token, SubjectId(minor));
    if (!link.ok()) return link.error();
    out.subject = SubjectId(minor);
    out.guardianship = link->id;
    updated.acting_for = minor;
    Audit(batch, out, "cabinet.act_for", "", link->relation, ctx);
  }
  batch.subject_sessions.push_back(std::move(updated));
  if (Status st = deps_.store.Commit(std::move(batch)); !st.ok()) return st.error();
  return out;
}

Status CabinetService::SignOut(const std::string& token, const RequestContext& ctx) {
  auto session = Authenticate(token);
  if (!session.ok()) return Status::Ok();
  ports::WriteBatch batch;
  batch.deleted_subject_sessions.push_back(HashHex(deps_.crypto, token));
  if (!session->subject.value().empty()) Audit(batch, *session, "logout", "", "", ctx);
  return deps_.store.Commit(std::move(batch));
}

void CabinetService::Audit(ports::WriteBatch& batch, const SubjectSession& session,
                           const std::string& action, const std::string& fields,
                           const std::string& reason, const RequestContext& ctx) {
  AuditEvent a;
  a.actor = session.ToActor().AuditName();
  a.action = action;
  auto pseudonym = audit_.Pseudonym(session.school, session.subject);
  if (pseudonym.ok()) a.subject_ref = *pseudonym;
  a.fields = fields;
  a.outcome = "ok";
  a.reason = reason;
  a.request_id = ctx.request_id;
  audit_.Add(batch, session.school, std::move(a));
}

Result<std::vector<CabinetField>> CabinetService::Collect(const SchoolId& school,
                                                          const SubjectId& subject) {
  // A page of records at a time: a subject with many records (the same fields collected many
  // times) costs memory for its distinct fields, not for every record and its value (R38, R54).
  constexpr size_t kPage = 256;
  std::vector<CabinetField> out;
  std::map<std::string, size_t> index;
  std::string after;
  for (;;) {
    auto records = subjects_.OpenPage(school, subject, after, kPage);
    if (!records.ok()) return records.error();
    if (records->empty()) break;
    after = records->back().row.id.value();
    for (const auto& rec : *records) {
      auto it = index.find(rec.row.field);
      if (it == index.end()) {
        CabinetField f;
        f.field = rec.row.field;
        f.category = rec.row.category;
        f.value = rec.value;
        f.source = rec.row.source;
        f.channel = rec.row.channel;
        f.form = rec.row.form;
        f.collected_at = rec.row.collected_at;
        f.provided = rec.row.source == "subject" || rec.row.source == "client";
        index.emplace(f.field, out.size());
        out.push_back(std::move(f));
        it = index.find(rec.row.field);
      }
      out[it->second].stores.push_back(rec.row.store);
    }
  }
  return out;
}

Result<std::vector<CabinetField>> CabinetService::Fields(const SubjectSession& session,
                                                         const RequestContext& ctx) {
  auto fields = Collect(session.school, session.subject);
  if (!fields.ok()) return fields.error();
  std::string ids;
  for (const auto& f : *fields) ids += (ids.empty() ? "" : ",") + f.field;
  ports::WriteBatch batch;
  batch.power_safe = false;  // a read's audit entry (ports::WriteBatch)
  Audit(batch, session, "read", ids, "self_service", ctx);
  if (auto st = deps_.store.Commit(std::move(batch)); !st.ok()) return st.error();
  return fields;
}

Status CabinetService::UpdateFields(const SubjectSession& session,
                                    const std::map<std::string, std::string>& values,
                                    const RequestContext& ctx) {
  if (values.empty()) return Error::Invalid("name at least one field to change", "fields");
  auto rt = schools_.Get(session.school);
  if (!rt.ok()) return rt.error();
  auto cp = (*rt)->policy();
  auto held = Collect(session.school, session.subject);
  if (!held.ok()) return held.error();
  std::map<std::string, std::string> normalised;
  for (const auto& [field, value] : values) {
    const int fi = cp->FieldIndex(field);
    if (fi < 0) {
      return Error::Refused("field_undeclared", "the policy declares no field \"" + field + "\"",
                            field);
    }
    auto it = std::find_if(held->begin(), held->end(),
                           [&name = field](const CabinetField& f) { return f.field == name; });
    if (it == held->end()) {
      return Error::Refused("field_not_held", "you have no \"" + field + "\" on file", field);
    }
    if (!it->provided) {
      return Error::Refused("field_not_provided",
                            "\"" + field + "\" was not provided by you; ask for a rectification",
                            field);
    }
    auto valid = domain::ValidateFieldValue(cp->field(static_cast<size_t>(fi)), value);
    if (!valid.ok()) {
      Error e = valid.error();
      if (e.field.empty()) e.field = field;
      return e;
    }
    normalised[field] = *valid;
  }
  ports::WriteBatch batch;
  Status st =
      subjects_.PrepareFieldUpdate(session.school, session.subject, normalised,
                                   deps_.clock.Now(), batch);
  if (!st.ok()) return st;
  std::string ids;
  for (const auto& [field, value] : normalised) ids += (ids.empty() ? "" : ",") + field;
  Audit(batch, session, "update", ids, "self_service", ctx);
  st = deps_.store.Commit(std::move(batch));
  subjects_.ForgetRecords(session.school, session.subject);
  return st;
}

Status CabinetService::DeleteField(const SubjectSession& session, const std::string& field,
                                   const RequestContext& ctx) {
  auto rt = schools_.Get(session.school);
  if (!rt.ok()) return rt.error();
  auto cp = (*rt)->policy();
  const int fi = cp->FieldIndex(field);
  if (fi < 0) {
    return Error::Refused("field_undeclared", "the policy declares no field \"" + field + "\"",
                          "field");
  }
  if (cp->field(static_cast<size_t>(fi)).type == "email") {
    return Error::Refused("field_required",
                          "the e-mail address is how you sign in and receive answers; ask for "
                          "erasure of your account instead",
                          "field");
  }
  auto rows = deps_.store.GetRecords(session.school, session.subject);
  if (!rows.ok()) return rows.error();
  ports::WriteBatch batch;
  for (const auto& r : *rows) {
    if (r.field != field) continue;
    if (r.source != "subject" && r.source != "client") {
      return Error::Refused("field_not_provided",
                            "\"" + field + "\" was not provided by you; ask for erasure", "field");
    }
    batch.deleted_records.emplace_back(session.school, r.id);
  }
  if (batch.deleted_records.empty()) {
    return Error::Refused("field_not_held", "you have no \"" + field + "\" on file", "field");
  }
  Audit(batch, session, "delete", field, "self_service", ctx);
  Status st = subjects_.CommitFieldDeletion(session.school, session.subject, field,
                                            std::move(batch));
  subjects_.ForgetRecords(session.school, session.subject);
  return st;
}

Result<FieldStatement> CabinetService::AttachStatement(const SubjectSession& session,
                                                      const std::string& field,
                                                      const std::string& text,
                                                      const RequestContext& ctx) {
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    return Error::Invalid("\"text\" is empty: write the statement to attach", "text");
  }
  if (text.size() > 2000) {
    return Error::Invalid("\"text\" is longer than 2000 characters", "text");
  }
  auto rt = schools_.Get(session.school);
  if (!rt.ok()) return rt.error();
  if ((*rt)->policy()->FieldIndex(field) < 0) {
    return Error::Refused("field_undeclared", "the policy declares no field \"" + field + "\"",
                          "field");
  }
  auto rows = deps_.store.GetRecords(session.school, session.subject);
  if (!rows.ok()) return rows.error();
  if (std::none_of(rows->begin(), rows->end(),
                   [&](const ports::RecordRow& r) { return r.field == field; })) {
    return Error::Refused("field_not_held", "you have no \"" + field + "\" on file", "field");
  }
  return subjects_.AttachStatement(session.school, session.subject, field, text,
                                   session.ToActor(), ctx);
}

Result<std::string> CabinetService::Export(const SubjectSession& session,
                                           const std::string& format, const RequestContext& ctx) {
  if (format != "json" && format != "csv") {
    return Error::Invalid("format must be json or csv", "format");
  }
  auto rt = schools_.Get(session.school);
  if (!rt.ok()) return rt.error();
  auto all = Collect(session.school, session.subject);
  if (!all.ok()) return all.error();
  std::vector<CabinetField> provided;
  for (auto& f : *all) {
    if (f.provided) provided.push_back(std::move(f));
  }
  std::string ids;
  for (const auto& f : provided) ids += (ids.empty() ? "" : ",") + f.field;
  ports::WriteBatch batch;
  Audit(batch, session, "export", ids, "portability_" + format, ctx);
  if (auto st = deps_.store.Commit(std::move(batch)); !st.ok()) return st.error();
  if (format == "csv") return ExportCsv(provided);
  Json fields = Json::array();
  for (const auto& f : provided) {
    fields.push_back({{"field", f.field},
                      {"category", f.category},
                      {"value", f.value},
                      {"collected_at", FormatTimestamp(f.collected_at)},
                      {"channel", f.channel},
                      {"form", f.form}});
  }
  Json consents = Json::array();
  auto ledger = deps_.store.GetConsents(session.school, session.subject);
  if (!ledger.ok()) return ledger.error();
  for (const auto& c : *ledger) {
    consents.push_back({{"consent", c.consent_type},
                        {"action", c.action},
                        {"at", FormatTimestamp(c.at)},
                        {"policy_version", c.policy_version}});
  }
  Json out = {{"schema", "https://dovira.dev/schema/export-v1.json"},
              {"school", session.school.value()},
              {"subject", session.subject.value()},
              {"policy_version", (*rt)->version()},
              {"exported_at", FormatTimestamp(deps_.clock.Now())},
              {"fields", fields},
              {"consents", consents}};
  return out.dump(2);
}

std::string ExportCsv(const std::vector<CabinetField>& fields) {
  // The person's own data, exactly as stored: no formula guard rewrites a "+380..." phone.
  auto cell = [](const std::string& v) {
    if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
    std::string q = "\"";
    for (char c : v) {
      if (c == '"') q += '"';
      q += c;
    }
    return q + "\"";
  };
  // The UTF-8 byte-order mark: spreadsheet programs then read Cyrillic as UTF-8.
  std::string out = "\xEF\xBB\xBF" "field,category,value,collected_at,channel,form\r\n";
  for (const auto& f : fields) {
    out += cell(f.field) + "," + cell(f.category) + "," + cell(f.value) + "," +
           cell(FormatTimestamp(f.collected_at)) + "," + cell(f.channel) + "," + cell(f.form) +
           "\r\n";
  }
  return out;
}

}  // namespace dovira::services
