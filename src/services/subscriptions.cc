#include "services/subscriptions.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "i18n/i18n.h"
#include "services/consents.h"
#include "services/request_texts.h"

namespace dovira::services {
namespace {

using Json = nlohmann::json;

constexpr size_t kTokenBytes = 32;

Json ConsentJson(const ports::ConsentRow& c) {
  Json j = {{"id", c.id.value()},
            {"consent_type", c.consent_type},
            {"grants", c.grants},
            {"policy_version", c.policy_version},
            {"text", c.text},
            {"text_sha256", c.text_sha256},
            {"lang", c.lang},
            {"channel", c.channel},
            {"form", c.form},
            {"checkbox", c.checkbox},
            {"given_by", c.given_by},
            {"evidence", c.evidence},
            {"at_us", MicrosOf(c.at)}};
  if (c.guardian) j["guardian"] = c.guardian->value();
  if (c.expires_at) j["expires_us"] = MicrosOf(*c.expires_at);
  return j;
}

Timestamp FromMicros(int64_t us) { return Timestamp(std::chrono::microseconds(us)); }

Error LinkError(ErrorCode code, const char* reason, const std::string& lang) {
  const i18n::Lang l = i18n::ParseLang(lang).value_or(i18n::Lang::kUk);
  return Error{code, i18n::Text(l, std::string("mail.confirm_page.") + reason), "token", reason};
}

}  // namespace

SubscriptionService::SubscriptionService(Deps deps, Schools& schools, AuditLog& audit,
                                         Outbox& outbox, std::function<std::string()> link_base)
    : deps_(deps),
      schools_(schools),
      audit_(audit),
      outbox_(outbox),
      link_base_(std::move(link_base)) {}

bool SubscriptionService::IsSubscriptionForm(const policy::Policy& policy,
                                             const std::string& form) {
  auto f = policy.forms.find(form);
  if (f == policy.forms.end()) return false;
  const std::string& kind = f->second.subject_kind;
  bool mailed = false;
  for (const auto& [id, purpose] : policy.purposes) {
    const bool names_kind = std::find(purpose.subject_kinds.begin(), purpose.subject_kinds.end(),
                                      kind) != purpose.subject_kinds.end();
    if (!names_kind) continue;
    if (purpose.basis == "contract" || purpose.basis == "pre_contract") return false;
    if (purpose.marketing) mailed = true;
  }
  return mailed;
}

std::vector<std::string> SubscriptionService::HeldGrants(const domain::CompiledPolicy& policy,
                                                         const std::vector<std::string>& grants) {
  std::vector<std::string> held;
  for (const auto& g : grants) {
    const int i = policy.PurposeIndex(g);
    if (i >= 0 && policy.purpose(static_cast<size_t>(i)).marketing) held.push_back(g);
  }
  return held;
}

Status SubscriptionService::Hold(ports::WriteBatch& batch, const SchoolId& school,
                                 const ports::ConsentRow& consent, const std::string& pseudonym,
                                 const std::string& email, const RequestContext& ctx) {
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto cp = (*rt)->policy();
  const policy::Policy& p = cp->policy();
  const Timestamp now = deps_.clock.Now();
  const std::string token = RandomHex(deps_.crypto, kTokenBytes);
  ports::SubscriptionConfirmationRow row;
  row.token_hash = HashHex(deps_.crypto, token);
  row.school = school;
  row.subject = consent.subject;
  row.state = "pending";
  row.consent = ConsentJson(consent).dump();
  row.created_at = now;
  row.expires_at = now + kLinkLifetime;
  batch.subscription_confirmations.push_back(row);

  const std::string lang = MessageLang(consent.lang);
  const std::string& fallback = p.school.authoritative_language;
  std::string purposes;
  for (const auto& g : consent.grants) {
    auto it = p.purposes.find(g);
    purposes += (purposes.empty() ? "" : ", ") +
                (it == p.purposes.end() ? g : it->second.title.Get(lang, fallback));
  }
  auto form = p.forms.find(consent.form);
  const std::string link = link_base_() + "/confirm.html?school=" + school.value() +
                           "&token=" + token + "&lang=" + lang;
  OutMessage m = Letter(
      "subscription_confirm", lang, email,
      {{"school", p.school.name.Get(lang, fallback)},
       {"form", form == p.forms.end() ? consent.form : form->second.title.Get(lang, fallback)},
       {"purposes", purposes},
       {"link", link},
       {"expires", LetterDateTime(cp->calendar(), row.expires_at, lang)}});
  auto id = outbox_.Add(batch, school, m);
  if (!id.ok()) return id.error();

  AuditEvent e;
  e.actor = "public";
  e.action = "subscription.confirmation_sent";
  e.subject_ref = pseudonym;
  e.purpose = JoinIds(consent.grants);
  e.outcome = "ok";
  e.request_id = ctx.request_id;
  e.detail = Json({{"consent", consent.consent_type},
                   {"message", *id},
                   {"expires_at", FormatTimestamp(row.expires_at)}})
                 .dump();
  audit_.Add(batch, school, std::move(e));
  return Status::Ok();
}

Result<SubscriptionConfirmed> SubscriptionService::Confirm(const SchoolId& school,
                                                           const std::string& token,
                                                           const std::string& lang,
                                                           const RequestContext& ctx) {
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  if (token.size() != 2 * kTokenBytes) return LinkError(ErrorCode::kNotFound, "link_unknown", lang);
  std::lock_guard lock(confirm_mu_);
  auto found = deps_.store.GetSubscriptionConfirmation(HashHex(deps_.crypto, token));
  if (!found.ok()) return found.error();
  if (!*found || (*found)->school != school) {
    return LinkError(ErrorCode::kNotFound, "link_unknown", lang);
  }
  ports::SubscriptionConfirmationRow row = std::move(**found);
  const Timestamp now = deps_.clock.Now();
  if (row.state == "confirmed") return LinkError(ErrorCode::kConflict, "link_used", lang);
  if (now >= row.expires_at) return LinkError(ErrorCode::kRefused, "link_expired", lang);
  const Json held = Json::parse(row.consent, nullptr, false);
  if (held.is_discarded() || !held.is_object()) {
    return Error{ErrorCode::kInternal, "a held subscription is not JSON", "", "subscription_corrupt"};
  }
  auto pseudonym = audit_.Pseudonym(school, row.subject);
  if (!pseudonym.ok()) return pseudonym.error();

  ports::ConsentRow c;
  c.school = school;
  c.id = ConsentId(deps_.crypto.NewId());
  c.subject = row.subject;
  c.consent_type = held.value("consent_type", "");
  c.grants = held.value("grants", std::vector<std::string>{});
  c.action = "grant";
  c.policy_version = held.value("policy_version", "");
  c.text = held.value("text", "");
  c.text_sha256 = held.value("text_sha256", "");
  c.lang = held.value("lang", "");
  c.channel = held.value("channel", "");
  c.form = held.value("form", "");
  c.checkbox = held.value("checkbox", "");
  c.given_by = held.value("given_by", "");
  if (held.contains("guardian")) c.guardian = SubjectId(held.value("guardian", ""));
  // The proof of the double opt-in: the consent as given, and its confirmation.
  Json evidence = Json::parse(held.value("evidence", "{}"), nullptr, false);
  if (evidence.is_discarded() || !evidence.is_object()) evidence = Json::object();
  const std::string ua = ctx.user_agent.empty()
                             ? std::string()
                             : ports::ToHex(deps_.crypto.Sha256(ctx.user_agent));
  evidence["double_opt_in"] = {
      {"given_at", FormatTimestamp(FromMicros(held.value("at_us", int64_t{0})))},
      {"held_consent", held.value("id", "")},
      {"confirmation_sent_at", FormatTimestamp(row.created_at)},
      {"confirmed_at", FormatTimestamp(now)},
      {"confirmed_from", {{"ip", TruncateIp(ctx.ip)}, {"user_agent_sha256", ua}}}};
  c.evidence = evidence.dump();
  c.at = now;
  if (held.contains("expires_us")) c.expires_at = FromMicros(held.value("expires_us", int64_t{0}));

  row.state = "confirmed";
  row.confirmed_at = now;
  ports::WriteBatch batch;
  batch.subscription_confirmations.push_back(row);
  AuditEvent e;
  e.actor = "subject";
  e.action = "subscription.confirm";
  e.subject_ref = *pseudonym;
  e.purpose = JoinIds(c.grants);
  e.outcome = "ok";
  e.request_id = ctx.request_id;
  e.detail = Json({{"consent_id", c.id.value()},
                   {"consent", c.consent_type},
                   {"text_sha256", c.text_sha256},
                   {"confirmation_sent_at", FormatTimestamp(row.created_at)}})
                 .dump();
  audit_.Add(batch, school, std::move(e));
  batch.consents.push_back(c);
  if (Status st = deps_.store.Commit(std::move(batch)); !st.ok()) return st.error();
  if (Status st = RefreshConsentWindows(deps_.store, **rt, row.subject); !st.ok()) {
    return st.error();
  }
  SubscriptionConfirmed out;
  out.subject = row.subject;
  out.purposes = c.grants;
  out.consent = ReceiptOf(c);
  out.confirmed_at = now;
  return out;
}

}  // namespace dovira::services
