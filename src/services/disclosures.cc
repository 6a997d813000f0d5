#include "services/disclosures.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "services/request_texts.h"

namespace dovira::services {
namespace {

using Json = nlohmann::json;

bool Contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

std::string ContactAad(const SchoolId& school, const std::string& recipient) {
  return "recipient_contact|" + school.value() + "|" + recipient;
}

// Processors must have a confidentiality clause on file before the first disclosure (R77).
bool IsProcessor(const std::string& kind) { return kind == "processor" || kind == "sub_processor"; }

bool WebhookUrlAcceptable(const std::string& url) {
  if (url.rfind("https://", 0) == 0) return url.size() > 8;
  for (const char* loopback : {"http://127.0.0.1", "http://localhost", "http://[::1]"}) {
    const std::string prefix(loopback);
    if (url.rfind(prefix, 0) == 0 &&
        (url.size() == prefix.size() || url[prefix.size()] == ':' || url[prefix.size()] == '/')) {
      return true;
    }
  }
  return false;
}

bool EmailAcceptable(const std::string& email) {
  const size_t at = email.find('@');
  return at != std::string::npos && at > 0 && at + 1 < email.size() &&
         email.find_first_of(" \t\r\n,;<>") == std::string::npos && email.size() <= 254;
}

std::string JoinComma(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

DisclosureService::DisclosureService(Deps deps, Schools& schools, DataAccessService& access,
                                     AuditLog& audit, Outbox& outbox)
    : deps_(deps), schools_(schools), access_(access), audit_(audit), outbox_(outbox) {}

Result<DisclosureOutcome> DisclosureService::Record(const SchoolId& school,
                                                    const DisclosureInput& in, const Actor& actor,
                                                    const RequestContext& ctx) {
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto cp = (*rt)->policy();
  if (!cp) return Error::Unavailable("the school has no policy in force");
  const policy::Policy& p = cp->policy();
  const Timestamp now = deps_.clock.Now();

  if (in.subject.value().empty()) return Error::Refused("subject_required", "subject is required", "subject");
  auto subject = deps_.store.GetSubject(school, in.subject);
  if (!subject.ok()) return subject.error();
  if (!*subject) return Error{ErrorCode::kNotFound, "no such subject", "subject", "subject_unknown"};

  // The policy: recipient, purpose, and that one serves the other.
  if (in.recipient.empty()) return Error::Refused("recipient_required", "recipient is required", "recipient");
  auto rit = p.recipients.find(in.recipient);
  if (rit == p.recipients.end()) {
    return Error::Refused("recipient_unknown",
                          "the policy names no recipient \"" + in.recipient.substr(0, 64) + "\"",
                          "recipient");
  }
  const policy::Recipient& rec = rit->second;
  if (in.purpose.empty()) return Error::Refused("purpose_required", "purpose is required", "purpose");
  const policy::Purpose* pu = p.FindPurpose(in.purpose);
  if (pu == nullptr) {
    return Error::Refused("purpose_undeclared",
                          "the policy declares no purpose \"" + in.purpose.substr(0, 64) + "\"",
                          "purpose");
  }
  if (!Contains(rec.purposes, in.purpose) && !Contains(pu->recipients, in.recipient)) {
    return Error::Refused("recipient_not_for_purpose",
                          "the policy does not name \"" + in.recipient + "\" as a recipient for \"" +
                              in.purpose + "\"",
                          "recipient");
  }

  // The fields: declared, mapped to the purpose (R30), and of a kind the recipient may receive.
  if (in.fields.empty()) return Error::Refused("fields_required", "name the fields disclosed", "fields");
  std::vector<std::string> fields;
  std::set<std::string> categories;
  for (const auto& f : in.fields) {
    const int fi = cp->FieldIndex(f);
    if (fi < 0) {
      return Error::Refused("field_unknown", "the policy declares no field \"" + f.substr(0, 64) + "\"",
                            "fields");
    }
    const domain::CompiledField& field = cp->field(static_cast<size_t>(fi));
    if (!cp->purpose(static_cast<size_t>(cp->PurposeIndex(in.purpose))).fields.Test(
            static_cast<size_t>(fi))) {
      return Error::Refused("field_not_in_purpose",
                            "field \"" + f + "\" is not used for \"" + in.purpose + "\"", "fields");
    }
    if (rec.data_form == "depersonalised" && field.identifier != "none") {
      return Error::Refused("field_not_for_recipient",
                            "\"" + in.recipient + "\" receives depersonalised data only; \"" + f +
                                "\" identifies the subject",
                            "fields");
    }
    if (rec.kind == "participants") {
      auto pf = p.fields.find(f);
      if (pf == p.fields.end() || !pf->second.shareable) {
        return Error::Refused("field_not_for_recipient",
                              "\"" + f + "\" is not shareable with other participants (R82)",
                              "fields");
      }
    }
    if (!Contains(fields, f)) fields.push_back(f);
    categories.insert(field.category);
  }

  // Basis and safeguard: the purpose's and recipient's, or ones the policy's [transfers] allows.
  std::string basis = in.basis.empty() ? pu->basis : in.basis;
  if (basis != pu->basis && !Contains(p.transfers.bases, basis)) {
    return Error::Refused("basis_not_allowed",
                          "basis must be the purpose's (" + pu->basis + ")" +
                              (p.transfers.bases.empty() ? std::string()
                                                         : " or one of " + JoinComma(p.transfers.bases)),
                          "basis");
  }
  std::string safeguard = in.safeguard.empty() ? rec.safeguard : in.safeguard;
  if (safeguard.empty()) safeguard = "none";
  if (safeguard != rec.safeguard && !Contains(p.transfers.safeguards, safeguard)) {
    return Error::Refused("safeguard_not_allowed",
                          "safeguard must be the recipient's (" + rec.safeguard + ")" +
                              (p.transfers.safeguards.empty()
                                   ? std::string()
                                   : " or one of " + JoinComma(p.transfers.safeguards)),
                          "safeguard");
  }
  std::string country = in.country;
  if (country.empty() && rec.countries.size() == 1) country = rec.countries.front();
  if (!country.empty() && !rec.countries.empty() && !Contains(rec.countries, country)) {
    return Error::Refused("country_not_for_recipient",
                          "the policy places \"" + in.recipient + "\" in " +
                              JoinComma(rec.countries),
                          "country");
  }
  const Timestamp at = in.at.value_or(now);
  if (at > now) return Error::Refused("at_in_future", "at must not be in the future", "at");

  // Recipient rules the policy records (R77, R80).
  if (IsProcessor(rec.kind) && !rec.confidentiality_clause) {
    return Error::Denied("confidentiality_clause_missing",
                         "no contract with a confidentiality clause is on file for \"" +
                             in.recipient + "\" (R77)");
  }
  Json detail = Json::object();
  if (rec.formal_request_required) {
    if (in.formal_document.empty() || in.formal_issuing_body.empty() || in.formal_basis.empty()) {
      return Error::Denied("formal_request_required",
                           "a disclosure to \"" + in.recipient +
                               "\" needs the formal request: document, issuing_body and basis "
                               "(R80)");
    }
    detail["formal_request"] = {{"document", in.formal_document},
                                {"issuing_body", in.formal_issuing_body},
                                {"basis", in.formal_basis}};
  }

  // The actor's use of the purpose, through the gate (audited whatever it answers).
  AccessRequest use;
  use.subject = in.subject;
  use.purpose = in.purpose;
  use.fields = fields;
  use.operation = domain::Operation::kDisclose;
  auto decided = access_.Decide(school, use, actor, ctx);
  if (!decided.ok()) return decided.error();
  DisclosureOutcome out;
  out.decision_id = decided->decision_id;
  if (!decided->allowed) {
    out.recorded = false;
    out.status = decided->status;
    out.reason = decided->reason;
    return out;
  }

  ports::DisclosureRow row;
  row.school = school;
  row.id = "dsc_" + deps_.crypto.NewId();
  row.subject = in.subject;
  row.recipient = in.recipient;
  row.at = at;
  row.fields = fields;
  row.categories.assign(categories.begin(), categories.end());
  row.purpose = in.purpose;
  row.basis = basis;
  row.safeguard = safeguard;
  row.country = country;
  row.actor = actor.AuditName();
  row.detail = Dump(detail);
  row.recorded_at = now;

  ports::WriteBatch batch;
  batch.disclosures.push_back(row);
  AuditEvent a;
  a.actor = actor.AuditName();
  a.role = actor.role;
  a.action = "disclose";
  auto pseudonym = audit_.Pseudonym(school, in.subject);
  if (pseudonym.ok()) a.subject_ref = *pseudonym;
  a.purpose = in.purpose;
  a.fields = JoinIds(fields);
  a.outcome = "ok";
  a.reason = "disclosure_logged";
  a.decision_id = row.id;
  a.request_id = ctx.request_id;
  a.detail = Dump({{"recipient", row.recipient},
                   {"at", FormatTimestamp(row.at)},
                   {"categories", row.categories},
                   {"basis", row.basis},
                   {"safeguard", row.safeguard},
                   {"country", row.country},
                   {"gate_decision", decided->decision_id}});
  audit_.Add(batch, school, std::move(a));
  if (Status st = deps_.store.Commit(std::move(batch)); !st.ok()) return st.error();
  out.recorded = true;
  out.status = 201;
  out.row = std::move(row);
  return out;
}

Result<std::vector<ports::DisclosureRow>> DisclosureService::List(
    const SchoolId& school, const ports::DisclosureFilter& filter) {
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  return deps_.store.ListDisclosures(school, filter);
}

Result<RecipientContact> DisclosureService::SetContact(const SchoolId& school,
                                                       const std::string& recipient,
                                                       const std::string& email,
                                                       const std::string& webhook_url,
                                                       const std::string& scc_document_url,
                                                       const Actor& actor,
                                                       const RequestContext& ctx) {
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto cp = (*rt)->policy();
  if (!cp) return Error::Unavailable("the school has no policy in force");
  if (cp->policy().recipients.count(recipient) == 0) {
    return Error{ErrorCode::kNotFound, "the policy names no such recipient", "recipient",
                 "recipient_unknown"};
  }
  if (email.empty() && webhook_url.empty() && scc_document_url.empty()) {
    return Error::Refused("contact_required", "give an email, a webhook_url or an scc_document_url",
                          "email");
  }
  if (!scc_document_url.empty() &&
      (scc_document_url.rfind("https://", 0) != 0 || scc_document_url.size() <= 8 ||
       scc_document_url.find_first_of(" \t\r\n") != std::string::npos)) {
    return Error::Refused("scc_document_url_invalid", "scc_document_url must be an https link",
                          "scc_document_url");
  }
  if (!email.empty() && !EmailAcceptable(email)) {
    return Error::Refused("email_invalid", "email is not an e-mail address", "email");
  }
  if (!webhook_url.empty() && !WebhookUrlAcceptable(webhook_url)) {
    return Error::Refused("webhook_url_invalid",
                          "webhook_url must be https (or http on the loopback interface)",
                          "webhook_url");
  }
  auto sealed = deps_.keys.SealSecret(
      school,
      Dump({{"email", email}, {"webhook_url", webhook_url}, {"scc_document_url", scc_document_url}}),
      ContactAad(school, recipient));
  if (!sealed.ok()) return sealed.error();
  const Timestamp now = deps_.clock.Now();
  ports::WriteBatch batch;
  batch.recipient_contacts.push_back(
      ports::RecipientContactRow{school, recipient, std::move(*sealed), now, actor.AuditName()});
  AuditEvent a;
  a.actor = actor.AuditName();
  a.role = actor.role;
  a.action = "recipient.contact";
  a.outcome = "ok";
  a.request_id = ctx.request_id;
  a.detail = Dump({{"recipient", recipient},
                   {"email", !email.empty()},
                   {"webhook", !webhook_url.empty()},
                   {"scc_document", !scc_document_url.empty()}});
  audit_.Add(batch, school, std::move(a));
  if (Status st = deps_.store.Commit(std::move(batch)); !st.ok()) return st.error();
  return RecipientContact{recipient, email, webhook_url, scc_document_url, now,
                          actor.AuditName()};
}

Result<std::optional<RecipientContact>> DisclosureService::Contact(const SchoolId& school,
                                                                   const std::string& recipient) {
  auto row = deps_.store.GetRecipientContact(school, recipient);
  if (!row.ok()) return row.error();
  if (!*row) return std::optional<RecipientContact>();
  auto opened = deps_.keys.OpenSecret(school, (*row)->sealed, ContactAad(school, recipient));
  if (!opened.ok()) return opened.error();
  Json j = Json::parse(*opened, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Error{ErrorCode::kInternal, "a recipient contact could not be read", "", "integrity"};
  }
  return std::optional<RecipientContact>(RecipientContact{recipient, j.value("email", ""),
                                                          j.value("webhook_url", ""),
                                                          j.value("scc_document_url", ""),
                                                          (*row)->updated_at,
                                                          (*row)->updated_by});
}

Result<std::vector<RecipientNotice>> DisclosureService::StageNotices(
    ports::WriteBatch& batch, const SchoolId& school, const SubjectId& subject,
    const std::string& event, const std::vector<std::string>& fields,
    const std::map<std::string, std::string>& corrected, const std::string& request_id,
    const std::string& lang_in) {
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto cp = (*rt)->policy();
  if (!cp) return Error::Unavailable("the school has no policy in force");
  const policy::Policy& p = cp->policy();
  const std::string lang = MessageLang(lang_in);
  const Timestamp now = deps_.clock.Now();

  ports::DisclosureFilter f;
  f.subject = subject.value();
  f.limit = 100000;
  auto log = deps_.store.ListDisclosures(school, f);
  if (!log.ok()) return log.error();

  // Per recipient: the affected fields it received, and for each the latest disclosure of it
  // (the log is newest first).
  struct Received {
    std::vector<std::string> fields;
    std::map<std::string, const ports::DisclosureRow*> latest;
  };
  std::map<std::string, Received> by_recipient;
  for (const auto& d : *log) {
    for (const auto& field : d.fields) {
      if (!fields.empty() && !Contains(fields, field)) continue;
      Received& r = by_recipient[d.recipient];
      if (!Contains(r.fields, field)) r.fields.push_back(field);
      r.latest.emplace(field, &d);
    }
  }

  // The subject's gate state with the corrected fields' block lifted: the correction is what
  // lifts it (R46).
  std::optional<domain::SubjectState> state = (*rt)->gate().With(
      subject, [](const domain::SubjectState* s) {
        return s == nullptr ? std::optional<domain::SubjectState>() : std::optional(*s);
      });
  if (state) {
    for (const auto& [field, value] : corrected) {
      const int fi = cp->FieldIndex(field);
      if (fi >= 0) state->blocked.Reset(static_cast<size_t>(fi));
    }
  }

  std::vector<RecipientNotice> out;
  for (auto& [recipient, received] : by_recipient) {
    std::sort(received.fields.begin(), received.fields.end());
    RecipientNotice n;
    n.recipient = recipient;
    n.fields = received.fields;

    // R48: the corrected values the policy still lets this recipient have, logged as a
    // disclosure per purpose.
    std::map<std::string, std::string> values;
    std::map<std::string, std::vector<std::string>> by_purpose;
    if (event == "rectification" && state) {
      for (const auto& field : received.fields) {
        auto c = corrected.find(field);
        if (c == corrected.end()) continue;
        const ports::DisclosureRow* last = received.latest.at(field);
        auto rit = p.recipients.find(recipient);
        if (rit == p.recipients.end() || rit->second.data_form == "depersonalised") continue;
        domain::GateRequest g;
        g.purpose = cp->PurposeIndex(last->purpose);
        g.operation = domain::Operation::kDisclose;
        const int fi = cp->FieldIndex(field);
        if (g.purpose < 0 || fi < 0) continue;
        g.fields.Set(static_cast<size_t>(fi));
        g.now_us = MicrosOf(now);
        if (!domain::Decide(cp.get(), &*state, g).allowed()) continue;
        values[field] = c->second;
        by_purpose[last->purpose].push_back(field);
        n.with_values.push_back(field);
      }
    }
    for (const auto& [purpose, pf] : by_purpose) {
      const ports::DisclosureRow* last = received.latest.at(pf.front());
      ports::DisclosureRow row;
      row.school = school;
      row.id = "dsc_" + deps_.crypto.NewId();
      row.subject = subject;
      row.recipient = recipient;
      row.at = now;
      row.fields = pf;
      std::set<std::string> cats;
      for (const auto& field : pf) cats.insert(cp->field(static_cast<size_t>(cp->FieldIndex(field))).category);
      row.categories.assign(cats.begin(), cats.end());
      row.purpose = purpose;
      row.basis = last->basis;
      row.safeguard = last->safeguard;
      row.country = last->country;
      row.actor = "system:recipient_notice";
      row.request = request_id;
      row.detail = Dump({{"notice", event}});
      row.recorded_at = now;
      batch.disclosures.push_back(std::move(row));
    }

    auto contact = Contact(school, recipient);
    if (!contact.ok()) return contact.error();
    if (!*contact || ((*contact)->email.empty() && (*contact)->webhook_url.empty())) {
      out.push_back(std::move(n));  // no way to tell it: the caller keeps a task for staff
      continue;
    }
    auto rit = p.recipients.find(recipient);
    const std::string title =
        rit == p.recipients.end() ? recipient : rit->second.title.Get(lang);
    OutMessage m;
    m.request = request_id;
    m.kind = "recipient_notice";
    m.lang = lang;
    if (!(*contact)->webhook_url.empty()) {
      m.channel = "webhook";
      m.url = (*contact)->webhook_url;
      Json body = {{"event", event},
                   {"school", school.value()},
                   {"recipient", recipient},
                   {"subject", subject.value()},
                   {"request", request_id},
                   {"fields", n.fields},
                   {"at", FormatTimestamp(now)}};
      if (!values.empty()) body["corrected"] = values;
      m.text = Dump(body);
    } else {
      m.channel = "email";
      m.to = {(*contact)->email};
      std::string value_text;
      if (!values.empty()) {
        value_text = CorrectedValuesHeading(lang) + "\n";
        for (const auto& [field, value] : values) {
          value_text += "  " + FieldTitles(p, {field}, lang) + ": " + value + "\n";
        }
      }
      const auto& cal = cp->calendar();
      MessageText t = RenderMessage(
          "recipient_notice", lang,
          {{"school", p.school.name.Get(lang, p.school.authoritative_language)},
           {"recipient", title},
           {"event", RecipientEventText(event, lang)},
           {"performed", LetterDate(cal, now, lang)},
           {"subject", subject.value()},
           {"id", request_id},
           {"fields", FieldTitles(p, n.fields, lang)},
           {"values", value_text}});
      m.subject = t.subject;
      m.text = t.body;
    }
    auto id = outbox_.Add(batch, school, m);
    if (!id.ok()) return id.error();
    n.channel = m.channel;
    n.message_id = *id;
    out.push_back(std::move(n));
  }
  return out;
}

}  // namespace dovira::services
