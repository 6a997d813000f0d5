#include "services/consents.h"

#include <algorithm>
#include <map>
#include <set>

#include "calendar/date.h"
#include "domain/consent_ledger.h"
#include "services/guardians.h"

namespace dovira::services {
namespace {

// The wording a marketing opt-in records: the policy's own title and description of the purpose,
// introduced in the subject's language.
std::string MarketingWording(const std::string& lang, const std::string& title,
                             const std::string& description) {
  std::string lead = lang == "ru"   ? "Я даю согласие на «" + title + "»"
                     : lang == "en" ? "I consent to “" + title + "”"
                                    : "Я даю згоду на «" + title + "»";
  return description.empty() ? lead + "." : lead + ": " + description;
}

bool Contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

}  // namespace

ConsentService::ConsentService(Deps deps, Schools& schools, SubjectService& subjects,
                               AuditLog& audit)
    : deps_(deps), schools_(schools), subjects_(subjects), audit_(audit) {}

Status ConsentService::Refresh(SchoolRuntime& school, const SubjectId& subject) {
  return RefreshConsentWindows(deps_.store, school, subject);
}

Status RefreshConsentWindows(ports::Store& store, SchoolRuntime& school,
                             const SubjectId& subject) {
  auto rows = store.GetConsents(school.id(), subject);
  if (!rows.ok()) return rows.error();
  std::vector<domain::LedgerEntry> ledger;
  for (const auto& c : *rows) {
    ledger.push_back(domain::LedgerEntry{c.consent_type, c.grants, c.action == "withdraw",
                                         MicrosOf(c.at),
                                         c.expires_at ? MicrosOf(*c.expires_at) : domain::kForever});
  }
  auto windows = domain::ConsentWindows(*school.policy(), ledger);
  school.gate().Update(subject, [&](domain::SubjectState& s) { s.consents = windows; });
  return Status::Ok();
}

Result<ConsentReceipt> ConsentService::Grant(const SchoolId& school_id, const GrantRequest& req,
                                             const Actor& actor, const RequestContext& ctx) {
  auto school = schools_.Get(school_id);
  if (!school.ok()) return school.error();
  auto cp = (*school)->policy();
  const policy::Policy& pol = cp->policy();
  auto ct = pol.consents.find(req.consent_type);
  if (ct == pol.consents.end()) {
    return Error::Refused("consent_unknown",
                          "the policy declares no consent \"" + req.consent_type + "\"", "consent");
  }
  if (req.text.empty()) {
    return Error::Refused("text_required", "the exact text the person agreed to is required",
                          "text");
  }
  static const std::set<std::string> kChannels = {
      "registration", "application", "subscription_form", "newsletter_subscription", "payment",
      "order", "written", "acceptance_by_use", "acceptance_plus_order", "personal_account",
      "phone_call", "in_person", "paper", "import", "api"};
  if (!kChannels.count(req.channel)) {
    return Error::Refused("channel_invalid", "unknown channel \"" + req.channel + "\"", "channel");
  }
  for (const auto& p : req.purposes) {
    if (!Contains(ct->second.grants, p)) {
      return Error::Refused("grant_not_in_consent",
                            "consent \"" + req.consent_type + "\" does not grant \"" + p + "\"",
                            "purposes");
    }
  }
  // A grant of marketing purposes alone, in the personal account, where the policy lets
  // marketing be dropped alone: what can be dropped there can be taken back there (R20, R53).
  const bool marketing_only =
      !req.purposes.empty() && pol.marketing.granular_optout &&
      std::all_of(req.purposes.begin(), req.purposes.end(), [&](const std::string& p) {
        const policy::Purpose* pu = pol.FindPurpose(p);
        return pu != nullptr && pu->marketing;
      });
  // R18: a consent type that names its channels is given only through them.
  const auto& declared = ct->second.channels;
  if (!declared.empty() && !(marketing_only && req.channel == "personal_account") &&
      std::find(declared.begin(), declared.end(), req.channel) == declared.end()) {
    std::string allowed;
    for (const auto& c : declared) allowed += (allowed.empty() ? "" : ", ") + c;
    return Error::Refused("channel_invalid",
                          "consent \"" + req.consent_type + "\" is given only through: " + allowed,
                          "channel");
  }
  if ((ct->second.evidence_required || req.channel == "written") && req.evidence_document.empty()) {
    return Error::Refused("evidence_required",
                          "a written consent needs the signed document (evidence_document)",
                          "evidence_document");
  }
  const Timestamp now = deps_.clock.Now();
  const Timestamp at = req.at.value_or(now);
  if (at > now) return Error::Refused("time_in_future", "a consent cannot be given later than now", "at");
  auto subject = deps_.store.GetSubject(school_id, req.subject);
  if (!subject.ok()) return subject.error();
  if (!*subject) return Error{ErrorCode::kNotFound, "no such subject", "subject", "subject_unknown"};

  ports::ConsentRow cr;
  cr.school = school_id;
  cr.id = ConsentId(deps_.crypto.NewId());
  cr.subject = req.subject;
  cr.consent_type = req.consent_type;
  cr.grants = req.purposes.empty() ? ct->second.grants : req.purposes;
  cr.action = "grant";
  cr.policy_version = (*school)->version();
  cr.text = req.text;
  cr.text_sha256 = ports::ToHex(deps_.crypto.Sha256(req.text));
  cr.lang = req.lang;
  cr.channel = req.channel;
  cr.given_by = req.given_by;
  // B06: a consent given by a guardian names the guardianship, how the representative's permission
  // was checked and until when it holds; without a representative on file it is refused.
  std::string representative;
  if (req.given_by == "guardian") {
    auto rows = deps_.store.MinorGuardianships(school_id, req.subject);
    if (!rows.ok()) return rows.error();
    std::optional<GuardianshipInfo> active;
    bool ended = false;
    for (const auto& g : *rows) {
      GuardianshipInfo info = GuardianshipInfoOf(*cp, g, now);
      if (!info.active) {
        ended = true;
        continue;
      }
      if (!active || (info.state == "verified" && active->state != "verified")) active = info;
    }
    if (!active) {
      return Error::Refused(ended ? "guardian_access_ended" : "representative_unknown",
                            ended ? "the person has come of age and consents for themselves"
                                  : "no legal representative of this person is on file",
                            "given_by");
    }
    representative = ",\"representative\":" + RepresentativeEvidence(*active);
  } else if (req.given_by != "subject") {
    return Error::Invalid("given_by must be subject or guardian", "given_by");
  }
  cr.evidence = "{\"ip\":" + JsonQuote(TruncateIp(ctx.ip)) + ",\"document\":" +
                JsonQuote(req.evidence_document) + representative + "}";
  cr.at = at;
  // Expiry: the earlier of the policy's term and the date given with the consent (R21).
  std::optional<Timestamp> expires;
  if (ct->second.term.unit != calendar::TermUnit::kIndefinite) {
    auto due = calendar::DueInstant(cp->calendar(),
                                    std::chrono::time_point_cast<std::chrono::seconds>(at),
                                    ct->second.term);
    if (due.ok()) expires = std::chrono::time_point_cast<std::chrono::microseconds>(*due) +
                            std::chrono::seconds(1);
  }
  if (req.expires) {
    auto d = calendar::ParseDate(*req.expires);
    if (!d.ok()) return Error::Refused("field_invalid", "expires: " + d.error().message, "expires");
    Timestamp end = std::chrono::time_point_cast<std::chrono::microseconds>(
        cp->calendar().EndOfDay(*d) + std::chrono::seconds(1));
    if (!expires || end < *expires) expires = end;
  }
  cr.expires_at = expires;

  ports::WriteBatch batch;
  AuditEvent e;
  e.actor = actor.AuditName();
  e.role = actor.role;
  e.action = "consent.grant";
  e.subject_ref = (*subject)->pseudonym;
  e.purpose = JoinIds(cr.grants);
  e.outcome = "ok";
  e.request_id = ctx.request_id;
  e.detail = "{\"consent_id\":" + JsonQuote(cr.id.value()) + ",\"consent\":" +
             JsonQuote(cr.consent_type) + ",\"channel\":" + JsonQuote(cr.channel) +
             ",\"text_sha256\":" + JsonQuote(cr.text_sha256) + "}";
  audit_.Add(batch, school_id, std::move(e));
  batch.consents.push_back(cr);
  Status st = deps_.store.Commit(std::move(batch));
  if (!st.ok()) return st.error();
  st = Refresh(**school, req.subject);
  if (!st.ok()) return st.error();

  ConsentReceipt r = ReceiptOf(
      cr, ct->second.withdrawal_procedure.Get(req.lang, pol.school.authoritative_language));
  return r;
}

Result<std::vector<ConsentReceipt>> ConsentService::Withdraw(const SchoolId& school_id,
                                                             const WithdrawRequest& req,
                                                             const Actor& actor,
                                                             const RequestContext& ctx) {
  auto school = schools_.Get(school_id);
  if (!school.ok()) return school.error();
  auto cp = (*school)->policy();
  const Timestamp now = deps_.clock.Now();
  const Timestamp at = req.received_at.value_or(now);
  if (at > now) {
    return Error::Refused("time_in_future", "a withdrawal cannot be received later than now",
                          "received_at");
  }
  auto subject = deps_.store.GetSubject(school_id, req.subject);
  if (!subject.ok()) return subject.error();
  if (!*subject) return Error{ErrorCode::kNotFound, "no such subject", "subject", "subject_unknown"};
  for (const auto& t : req.consent_types) {
    if (!cp->policy().consents.count(t)) {
      return Error::Refused("consent_unknown", "the policy declares no consent \"" + t + "\"",
                            "consent");
    }
  }
  for (const auto& p : req.purposes) {
    if (cp->PurposeIndex(p) < 0) {
      return Error::Refused("purpose_undeclared", "the policy declares no purpose \"" + p + "\"",
                            "purposes");
    }
  }
  auto rows = deps_.store.GetConsents(school_id, req.subject);
  if (!rows.ok()) return rows.error();
  // What is active now per consent type: per grant, the latest row that names it (a grant in
  // force, or a withdrawal or an expired grant that ended it).
  std::map<std::string, std::set<std::string>> active;
  for (const auto& c : *rows) {
    auto& set = active[c.consent_type];
    const bool in_force = c.action == "grant" && !(c.expires_at && *c.expires_at <= now);
    for (const auto& g : c.grants) {
      if (in_force) {
        set.insert(g);
      } else {
        set.erase(g);
      }
    }
  }
  ports::WriteBatch batch;
  std::vector<ConsentReceipt> out;
  for (const auto& [type, grants] : active) {
    if (grants.empty()) continue;
    if (!req.consent_types.empty() &&
        std::find(req.consent_types.begin(), req.consent_types.end(), type) ==
            req.consent_types.end()) {
      continue;
    }
    std::vector<std::string> withdrawn;
    for (const auto& g : grants) {
      if (req.purposes.empty() ||
          std::find(req.purposes.begin(), req.purposes.end(), g) != req.purposes.end()) {
        withdrawn.push_back(g);
      }
    }
    if (withdrawn.empty()) continue;
    ports::ConsentRow cr;
    cr.school = school_id;
    cr.id = ConsentId(deps_.crypto.NewId());
    cr.subject = req.subject;
    cr.consent_type = type;
    cr.grants = withdrawn;
    cr.action = "withdraw";
    cr.policy_version = (*school)->version();
    cr.channel = req.channel;
    cr.given_by = actor.kind == Actor::Kind::kStaff ? "staff"
                  : actor.guardianship.empty()      ? "subject"
                                                    : "guardian";
    cr.evidence = "{\"ip\":" + JsonQuote(TruncateIp(ctx.ip)) + "}";
    cr.at = at;
    AuditEvent e;
    e.actor = actor.AuditName();
    e.role = actor.role;
    e.action = "consent.withdraw";
    e.subject_ref = (*subject)->pseudonym;
    e.purpose = JoinIds(withdrawn);
    e.outcome = "ok";
    e.request_id = ctx.request_id;
    e.detail = "{\"consent_id\":" + JsonQuote(cr.id.value()) + ",\"consent\":" +
               JsonQuote(type) + ",\"channel\":" + JsonQuote(req.channel) + "}";
    audit_.Add(batch, school_id, std::move(e));
    ConsentReceipt r = ReceiptOf(cr);
    out.push_back(std::move(r));
    batch.consents.push_back(std::move(cr));
  }
  if (out.empty()) {
    return Error::Conflict("nothing_to_withdraw", "no active consent matches the withdrawal");
  }
  Status st = deps_.store.Commit(std::move(batch));
  if (!st.ok()) return st.error();
  st = Refresh(**school, req.subject);
  if (!st.ok()) return st.error();
  return out;
}

Result<std::vector<ports::ConsentRow>> ConsentService::Ledger(const SchoolId& school,
                                                              const SubjectId& subject,
                                                              const Actor& actor,
                                                              const RequestContext& ctx) {
  auto row = deps_.store.GetSubject(school, subject);
  if (!row.ok()) return row.error();
  if (!*row) return Error{ErrorCode::kNotFound, "no such subject", "subject", "subject_unknown"};
  auto rows = deps_.store.GetConsents(school, subject);
  if (!rows.ok()) return rows.error();
  AuditEvent e;
  e.actor = actor.AuditName();
  e.role = actor.role;
  e.action = "consent.list";
  e.subject_ref = (*row)->pseudonym;
  e.outcome = "ok";
  e.request_id = ctx.request_id;
  (void)audit_.Record(school, std::move(e));
  return rows;
}

Result<MarketingPreferences> ConsentService::Preferences(const SchoolRuntime& school,
                                                         const SubjectId& subject,
                                                         const std::string& lang) {
  auto cp = school.policy();
  if (!cp) return Error::Unavailable("the school has no policy loaded");
  const policy::Policy& pol = cp->policy();
  const std::string& auth = pol.school.authoritative_language;
  auto row = deps_.store.GetSubject(school.id(), subject);
  if (!row.ok()) return row.error();
  if (!*row) return Error{ErrorCode::kNotFound, "no such subject", "subject", "subject_unknown"};
  auto rows = deps_.store.GetConsents(school.id(), subject);
  if (!rows.ok()) return rows.error();
  const int64_t now_us = MicrosOf(deps_.clock.Now());

  MarketingPreferences out;
  out.model = pol.marketing.model;
  out.policy_version = school.version();
  out.granular_optout = pol.marketing.granular_optout;
  for (size_t i = 0; i < cp->purpose_count(); ++i) {
    const domain::CompiledPurpose& cpu = cp->purpose(i);
    const policy::Purpose* pu = pol.FindPurpose(cpu.id);
    if (!cpu.marketing || !cpu.enabled || pu == nullptr) continue;
    domain::GateRequest g;
    g.purpose = static_cast<int>(i);
    g.operation = domain::Operation::kMessage;
    g.all_fields = true;
    g.now_us = now_us;
    bool active = false;
    const domain::Decision d = school.gate().With(subject, [&](const domain::SubjectState* st) {
      if (st != nullptr) {
        const domain::ConsentWindow* w = st->Consent(i);
        active = w != nullptr && !w->withdrawn && w->from_us <= now_us && now_us < w->until_us;
      }
      return domain::Decide(cp.get(), st, g);
    });
    if (d.reason == domain::Reason::kSubjectKindExcluded) continue;  // not for this person
    MarketingPreference m;
    m.purpose = cpu.id;
    m.title = pu->title.Get(lang, auth);
    m.description = pu->description.Get(lang, auth);
    m.channels = pu->channels;
    m.reason = domain::ReasonCode(d.reason);
    m.consent_active = active;
    switch (d.reason) {
      case domain::Reason::kAllowed:
        m.state = "in";
        break;
      case domain::Reason::kNoConsent:
        m.state = "never";
        break;
      case domain::Reason::kConsentWithdrawn:
      case domain::Reason::kConsentExpired:
        m.state = "out";
        break;
      default:
        m.state = "stopped";
    }
    // The consent an opt-in records: one given in the personal account, else (where marketing
    // can be dropped alone) the first that grants the purpose.
    const policy::ConsentType* chosen = nullptr;
    for (const auto& [id, ct] : pol.consents) {
      if (!Contains(ct.grants, cpu.id)) continue;
      if (ct.channels.empty() || Contains(ct.channels, "personal_account")) {
        chosen = &ct;
        break;
      }
      if (chosen == nullptr && pol.marketing.granular_optout) chosen = &ct;
    }
    if (chosen != nullptr) {
      m.consent_type = chosen->id;
      m.consent_title = chosen->title.Get(lang, auth);
      m.withdrawal_procedure = chosen->withdrawal_procedure.Get(lang, auth);
      m.text = MarketingWording(lang, m.title, m.description);
    }
    for (const auto& c : *rows) {
      if (Contains(c.grants, cpu.id)) m.since = c.at;
    }
    out.purposes.push_back(std::move(m));
  }
  return out;
}

Result<MarketingPreferences> ConsentService::Marketing(const SchoolId& school_id,
                                                       const SubjectId& subject,
                                                       const std::string& lang, const Actor& actor,
                                                       const RequestContext& ctx) {
  auto school = schools_.Get(school_id);
  if (!school.ok()) return school.error();
  auto prefs = Preferences(**school, subject, lang);
  if (!prefs.ok()) return prefs.error();
  auto pn = audit_.Pseudonym(school_id, subject);
  AuditEvent e;
  e.actor = actor.AuditName();
  e.role = actor.role;
  e.action = "consent.list";
  e.subject_ref = pn.ok() ? *pn : std::string();
  e.outcome = "ok";
  e.request_id = ctx.request_id;
  e.detail = "{\"view\":\"marketing\"}";
  Status st = audit_.Record(school_id, std::move(e));
  if (!st.ok()) return st.error();
  return prefs;
}

Result<ConsentReceipt> ConsentService::MarketingOptIn(const SchoolId& school_id,
                                                      const SubjectId& subject,
                                                      const std::string& purpose,
                                                      const std::string& lang, const Actor& actor,
                                                      const RequestContext& ctx) {
  auto school = schools_.Get(school_id);
  if (!school.ok()) return school.error();
  auto prefs = Preferences(**school, subject, lang);
  if (!prefs.ok()) return prefs.error();
  const MarketingPreference* m = nullptr;
  for (const auto& p : prefs->purposes) {
    if (p.purpose == purpose) m = &p;
  }
  if (m == nullptr) {
    return Error::Refused("purpose_not_marketing",
                          "\"" + purpose + "\" is not a marketing purpose of yours in this policy",
                          "purpose");
  }
  if (m->consent_active) {
    return Error::Conflict("already_opted_in", "the consent to \"" + purpose + "\" is in force");
  }
  if (m->reason == "objection_upheld") {
    return Error::Conflict("objection_upheld", "an upheld objection stops \"" + purpose +
                                                   "\"; a consent cannot lift it");
  }
  if (m->state == "stopped") {
    // A restriction (a withdrawal of everything, a disputed accuracy ...) or the subject's age
    // stops the purpose whatever the ledger says: a grant recorded now would change nothing the
    // subject can see, so none is recorded (issue 12: states that agree).
    return Error::Conflict("marketing_stopped", "\"" + purpose + "\" is stopped (" + m->reason +
                                                    "); a consent cannot lift it")
        .With("variant", m->reason);
  }
  if (m->consent_type.empty()) {
    return Error::Refused(
        "marketing_consent_unavailable",
        "no consent of the policy can be given for \"" + purpose + "\" in the personal account",
        "purpose");
  }
  GrantRequest g;
  g.subject = subject;
  g.consent_type = m->consent_type;
  g.text = m->text;
  g.lang = lang;
  g.channel = "personal_account";
  g.purposes = {purpose};
  return Grant(school_id, g, actor, ctx);
}

Result<std::vector<ConsentReceipt>> ConsentService::MarketingOptOut(const SchoolId& school_id,
                                                                    const SubjectId& subject,
                                                                    const std::string& purpose,
                                                                    const Actor& actor,
                                                                    const RequestContext& ctx) {
  auto school = schools_.Get(school_id);
  if (!school.ok()) return school.error();
  auto cp = (*school)->policy();
  if (!cp) return Error::Unavailable("the school has no policy loaded");
  const policy::Purpose* pu = cp->policy().FindPurpose(purpose);
  if (pu == nullptr || !pu->marketing) {
    return Error::Refused("purpose_not_marketing",
                          "\"" + purpose + "\" is not a marketing purpose of this policy",
                          "purpose");
  }
  WithdrawRequest w;
  w.subject = subject;
  w.purposes = {purpose};
  w.channel = "personal_account";
  auto out = Withdraw(school_id, w, actor, ctx);
  if (!out.ok() && out.error().reason == "nothing_to_withdraw") {
    return Error::Conflict("already_opted_out",
                           "no consent to \"" + purpose + "\" is in force to withdraw");
  }
  return out;
}

}  // namespace dovira::services
