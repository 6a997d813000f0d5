#include "services/subjects.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "domain/consent_ledger.h"
#include "services/guardians.h"
#include "services/outbox.h"
#include "services/request_texts.h"
#include "services/subscriptions.h"

namespace dovira::services {
namespace {

// One writer at a time rewrites a subject's sealed profile, so that two changes to its statements
// do not lose each other.
std::mutex& ProfileMutex() {
  static std::mutex mu;
  return mu;
}

std::string Escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Unescape(const std::string& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) {
      char n = v[++i];
      out += n == 't' ? '\t' : n == 'n' ? '\n' : n;
    } else {
      out += v[i];
    }
  }
  return out;
}


// The term a consent lasts, from its grant instant; kForever when indefinite.
int64_t ExpiryUs(const domain::CompiledPolicy& cp, const std::optional<calendar::Term>& term,
                 Timestamp at) {
  if (!term || term->unit == calendar::TermUnit::kIndefinite) return domain::kForever;
  auto due = calendar::DueInstant(
      cp.calendar(), std::chrono::time_point_cast<std::chrono::seconds>(at), *term);
  if (!due.ok()) return domain::kForever;
  return std::chrono::duration_cast<std::chrono::microseconds>(due->time_since_epoch()).count() +
         1000000;  // the end of the last day is included
}

}  // namespace

ConsentReceipt ReceiptOf(const ports::ConsentRow& row, std::string withdrawal_procedure) {
  ConsentReceipt r;
  r.id = row.id;
  r.consent_type = row.consent_type;
  r.action = row.action;
  r.grants = row.grants;
  r.text = row.text;
  r.text_sha256 = row.text_sha256;
  r.lang = row.lang;
  r.channel = row.channel;
  r.policy_version = row.policy_version;
  r.given_by = row.given_by;
  r.withdrawal_procedure = std::move(withdrawal_procedure);
  r.at = row.at;
  r.expires_at = row.expires_at;
  return r;
}

std::string EncodeProfile(const SubjectProfile& p) {
  std::string out = "v1\n";
  out += "minor_until\t" + std::to_string(p.minor_until_us) + "\n";
  if (p.representative) {
    out += "rep_name\t" + Escape(p.representative->name) + "\n";
    out += "rep_relation\t" + Escape(p.representative->relation) + "\n";
    out += "rep_email\t" + Escape(p.representative->email) + "\n";
    out += "rep_permission_at\t" + Escape(p.representative->permission_at) + "\n";
  }
  if (!p.country.empty()) out += "country\t" + Escape(p.country) + "\n";
  if (!p.citizenship.empty()) out += "citizenship\t" + Escape(p.citizenship) + "\n";
  if (!p.lang.empty()) out += "lang\t" + Escape(p.lang) + "\n";
  for (const auto& st : p.statements) {
    out += "statement\t" + Escape(st.field) + "\t" + std::to_string(MicrosOf(st.at)) + "\t" +
           Escape(st.text) + "\n";
  }
  return out;
}

SubjectProfile DecodeProfile(const std::string& text) {
  SubjectProfile p;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto tab = line.find('\t');
    if (tab == std::string::npos) continue;
    if (line.compare(0, tab, "statement") == 0) {
      // statement <field> <at, microseconds> <text>, each part escaped on its own.
      const size_t t2 = line.find('\t', tab + 1);
      const size_t t3 = t2 == std::string::npos ? t2 : line.find('\t', t2 + 1);
      if (t3 == std::string::npos) continue;
      FieldStatement st;
      st.field = Unescape(line.substr(tab + 1, t2 - tab - 1));
      st.at = Timestamp(std::chrono::microseconds(
          std::strtoll(line.substr(t2 + 1, t3 - t2 - 1).c_str(), nullptr, 10)));
      st.text = Unescape(line.substr(t3 + 1));
      p.statements.push_back(std::move(st));
      continue;
    }
    std::string k = line.substr(0, tab), v = Unescape(line.substr(tab + 1));
    if (k == "minor_until") {
      p.minor_until_us = std::strtoll(v.c_str(), nullptr, 10);
    } else if (k.rfind("rep_", 0) == 0) {
      if (!p.representative) p.representative = domain::Representative{};
      if (k == "rep_name") p.representative->name = v;
      if (k == "rep_relation") p.representative->relation = v;
      if (k == "rep_email") p.representative->email = v;
      if (k == "rep_permission_at") p.representative->permission_at = v;
    } else if (k == "country") {
      p.country = v;
    } else if (k == "citizenship") {
      p.citizenship = v;
    } else if (k == "lang") {
      p.lang = v;
    }
  }
  return p;
}

SubjectService::SubjectService(Deps deps, Schools& schools, AuditLog& audit,
                               SubscriptionService* subscriptions, Outbox* outbox)
    : deps_(deps),
      schools_(schools),
      audit_(audit),
      subscriptions_(subscriptions),
      outbox_(outbox) {}

void SubjectService::CacheKey(const std::string& cache_key, const ports::SecretKey& key) {
  std::lock_guard lock(cache_mu_);
  auto it = key_cache_.find(cache_key);
  if (it != key_cache_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    return;
  }
  lru_.push_front(cache_key);
  key_cache_.emplace(cache_key, CachedKey{key, lru_.begin()});
  if (key_cache_.size() > kKeyCacheSize) {
    key_cache_.erase(lru_.back());
    lru_.pop_back();
  }
}

void SubjectService::ForgetKey(const std::string& cache_key) {
  std::lock_guard lock(cache_mu_);
  auto it = key_cache_.find(cache_key);
  if (it == key_cache_.end()) return;
  lru_.erase(it->second.lru);
  key_cache_.erase(it);
}

Result<ports::SecretKey> SubjectService::SubjectKey(const SchoolId& school,
                                                    const SubjectId& subject) {
  const std::string cache_key = school.value() + "|" + subject.value();
  {
    std::lock_guard lock(cache_mu_);
    auto it = key_cache_.find(cache_key);
    if (it != key_cache_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      return it->second.key;
    }
  }
  auto row = deps_.store.GetSubjectKey(school, subject);
  if (!row.ok()) return row.error();
  if (!*row) {
    return Error{ErrorCode::kNotFound, "the subject's key does not exist", "subject",
                 "subject_unknown"};
  }
  auto key = deps_.keys.Unwrap(school, subject, ports::WrappedKey{(*row)->kek_id, (*row)->wrapped_key});
  if (!key.ok()) return key.error();
  CacheKey(cache_key, *key);
  return *key;
}

std::string SubjectService::SealValue(const ports::SecretKey& key, const SchoolId& school,
                                      const SubjectId& subject, const std::string& field,
                                      const std::string& record_id, const std::string& value) {
  return deps_.crypto.Seal(key, value,
                           school.value() + "|" + subject.value() + "|" + field + "|" + record_id);
}

Result<std::string> SubjectService::OpenValue(const ports::SecretKey& key,
                                              const ports::RecordRow& r) {
  return deps_.crypto.Open(
      key, r.sealed_value,
      r.school.value() + "|" + r.subject.value() + "|" + r.field + "|" + r.id.value());
}

Result<std::shared_ptr<const std::vector<ports::RecordRow>>> SubjectService::StoreRecords(
    const SchoolId& school, const SubjectId& subject, const std::string& store) {
  const std::string key = school.value() + "|" + subject.value() + "|" + store;
  {
    std::lock_guard lock(records_mu_);
    auto it = records_.find(key);
    if (it != records_.end()) return it->second;
  }
  auto rows = deps_.store.GetStoreRecords(school, subject, store);
  if (!rows.ok()) return rows.error();
  auto shared = std::make_shared<const std::vector<ports::RecordRow>>(std::move(*rows));
  std::lock_guard lock(records_mu_);
  if (records_.size() >= kRecordCacheSize) records_.clear();
  records_[key] = shared;
  return shared;
}

void SubjectService::ForgetRecords(const SchoolId& school, const SubjectId& subject) {
  const std::string prefix = school.value() + "|" + subject.value() + "|";
  std::lock_guard lock(records_mu_);
  for (auto it = records_.begin(); it != records_.end();) {
    if (it->first.rfind(prefix, 0) == 0) {
      it = records_.erase(it);
    } else {
      ++it;
    }
  }
}

Result<std::string> SubjectService::LookupToken(const SchoolId& school, const std::string& field,
                                                const std::string& value) {
  auto key = deps_.keys.PseudonymKey(school);
  if (!key.ok()) return key.error();
  return ports::ToHex(deps_.crypto.KeyedHash(*key, "lookup|" + field + "|" + value));
}

int64_t SubjectService::MinorUntil(const SchoolId& school, const ports::SubjectRow& row) {
  if (row.sealed_profile.empty()) return 0;
  auto key = SubjectKey(school, row.id);
  if (!key.ok()) return 0;
  auto plain = deps_.crypto.Open(*key, row.sealed_profile,
                                 "profile|" + school.value() + "|" + row.id.value());
  return plain.ok() ? DecodeProfile(*plain).minor_until_us : 0;
}

namespace {

void ApplySubjectRow(const domain::CompiledPolicy& cp, const ports::SubjectRow& r,
                     int64_t minor_until, domain::SubjectState& s) {
  const int kind = cp.SubjectKindIndex(r.kind);
  s.kind = static_cast<uint16_t>(kind < 0 ? 63 : kind);
  s.closing = r.state == "closing";
  s.minor_until_us = minor_until;
}

domain::LedgerEntry LedgerEntryOf(const ports::ConsentRow& c) {
  return domain::LedgerEntry{c.consent_type, c.grants, c.action == "withdraw", MicrosOf(c.at),
                             c.expires_at ? MicrosOf(*c.expires_at) : domain::kForever};
}

}  // namespace

Result<bool> SubjectService::LoadSubjectGate(SchoolRuntime& school, const SubjectId& subject,
                                             domain::SubjectState& state) {
  auto cp = school.policy();
  if (!cp) return Error::Unavailable("the school has no policy loaded");
  auto version = deps_.store.GetGateVersion(school.id(), subject);
  if (!version.ok()) return version.error();
  if (*version == 0) return false;
  auto row = deps_.store.GetSubject(school.id(), subject);
  if (!row.ok()) return row.error();
  if (!*row) return false;
  state.version = *version;
  ApplySubjectRow(*cp, **row, MinorUntil(school.id(), **row), state);
  auto consents = deps_.store.GetConsents(school.id(), subject);
  if (!consents.ok()) return consents.error();
  std::vector<domain::LedgerEntry> ledger;
  for (const auto& c : *consents) ledger.push_back(LedgerEntryOf(c));
  state.consents = domain::ConsentWindows(*cp, ledger);
  return true;
}

Result<IntakeReceipt> SubjectService::Intake(const SchoolId& school_id,
                                             const domain::Submission& submission,
                                             const Actor& actor, const RequestContext& ctx) {
  auto school = schools_.Get(school_id);
  if (!school.ok()) return school.error();
  auto cp = (*school)->policy();
  const Timestamp now = deps_.clock.Now();
  // API keys may only bring data for the purposes they are limited to; a form is public.
  auto valid = domain::ValidateSubmission(*cp, submission, now);
  if (!valid.ok()) {
    AuditEvent e;
    e.actor = actor.AuditName();
    e.role = actor.role;
    e.action = "subject.create";
    e.outcome = "deny";
    e.reason = valid.error().ReasonOrCode();
    e.request_id = ctx.request_id;
    e.detail = "{\"form\":" + JsonQuote(submission.form) +
               ",\"field\":" + JsonQuote(valid.error().field) + "}";
    (void)audit_.Record(school_id, std::move(e));
    return valid.error();
  }
  auto reserved = TakeReservedKey(school_id);
  if (!reserved.ok()) return reserved.error();
  ports::WriteBatch batch;
  auto prepared =
      PrepareIntake(school_id, **school, *cp, submission, *valid, actor, ctx, {}, batch, &*reserved);
  if (!prepared.ok()) {
    // Refused before anything was stored: the key stays for the next intake.
    std::lock_guard lock(reserved_mu_);
    reserved_[school_id].push_back(std::move(*reserved));
    return prepared.error();
  }
  Status committed = deps_.store.Commit(std::move(batch));
  if (!committed.ok()) return committed.error();
  Admit(school_id, **school, *prepared);
  return std::move(prepared->receipt);
}

Result<SubjectService::ReservedKey> SubjectService::TakeReservedKey(const SchoolId& school) {
  std::lock_guard lock(reserved_mu_);
  std::vector<ReservedKey>& pool = reserved_[school];
  if (pool.empty()) {
    // One vault commit for the next kReservedKeys intakes; the intakes waiting here meanwhile
    // take theirs from it.
    const Timestamp now = deps_.clock.Now();
    ports::WriteBatch batch;
    std::vector<ReservedKey> made;
    for (size_t i = 0; i < kReservedKeys; ++i) {
      ReservedKey r{SubjectId(deps_.crypto.NewId()), deps_.crypto.NewKey()};
      auto wrapped = deps_.keys.Wrap(school, r.subject, r.key);
      if (!wrapped.ok()) return wrapped.error();
      batch.subject_keys.push_back(
          ports::SubjectKeyRow{school, r.subject, wrapped->kek_id, wrapped->wrapped, now});
      made.push_back(std::move(r));
    }
    if (Status st = deps_.store.Commit(std::move(batch)); !st.ok()) return st.error();
    // Taken from the back, smallest id first: subjects are numbered in the order they come, as
    // when each intake made its own id.
    std::sort(made.begin(), made.end(), [](const ReservedKey& a, const ReservedKey& b) {
      return b.subject < a.subject;
    });
    pool = std::move(made);
  }
  ReservedKey out = std::move(pool.back());
  pool.pop_back();
  return out;
}

Status SubjectService::ReleaseReservedKeys() {
  std::lock_guard lock(reserved_mu_);
  ports::WriteBatch batch;
  for (const auto& [school, pool] : reserved_) {
    for (const ReservedKey& r : pool) batch.destroyed_keys.emplace_back(school, r.subject);
  }
  if (batch.destroyed_keys.empty()) return Status::Ok();
  if (Status st = deps_.store.Commit(std::move(batch)); !st.ok()) return st;
  reserved_.clear();
  return Status::Ok();
}

Result<SubjectService::PreparedIntake> SubjectService::PrepareIntake(
    const SchoolId& school_id, const SchoolRuntime& school, const domain::CompiledPolicy& policy,
    const domain::Submission& submission, const domain::ValidatedSubmission& v,
    const Actor& actor, const RequestContext& ctx, const std::string& provenance,
    ports::WriteBatch& batch, const ReservedKey* reserved) {
  const domain::CompiledPolicy* cp = &policy;
  const Timestamp now = deps_.clock.Now();
  const policy::Policy& pol = cp->policy();
  const std::string version = school.version();

  // The representative's e-mail is checked before anything is added to `batch`: a refusal leaves
  // the batch as it was.
  std::string email_token;
  if (v.minor && v.representative && !v.representative->email.empty()) {
    auto email = domain::NormaliseEmail(v.representative->email);
    if (!email) {
      return Error::Refused("field_invalid", "representative.email is not an e-mail address",
                            "representative.email");
    }
    auto token = LookupToken(school_id, "email", *email);
    if (!token.ok()) return token.error();
    email_token = *token;
  }
  SubjectId subject = reserved ? reserved->subject : SubjectId(deps_.crypto.NewId());
  ports::SecretKey key = reserved ? reserved->key : deps_.crypto.NewKey();
  auto pseudonym = audit_.Pseudonym(school_id, subject);
  if (!pseudonym.ok()) return pseudonym.error();
  if (!reserved) {
    auto wrapped = deps_.keys.Wrap(school_id, subject, key);
    if (!wrapped.ok()) return wrapped.error();
    batch.subject_keys.push_back(
        ports::SubjectKeyRow{school_id, subject, wrapped->kek_id, wrapped->wrapped, now});
  }
  ports::SubjectRow row;
  row.school = school_id;
  row.id = subject;
  row.kind = v.subject_kind;
  row.pseudonym = *pseudonym;
  row.policy_version = version;
  row.channel = v.channel;
  row.form = v.form;
  row.source = v.source;
  row.state = "active";
  row.created_at = now;
  row.updated_at = now;
  SubjectProfile profile;
  profile.minor_until_us = v.minor_until_us;
  profile.representative = v.representative;
  profile.country = submission.country;
  profile.citizenship = submission.citizenship;
  profile.lang = submission.lang;
  row.sealed_profile = deps_.crypto.Seal(key, EncodeProfile(profile),
                                         "profile|" + school_id.value() + "|" + subject.value());
  batch.subjects.push_back(row);

  // The representative of a minor (R24) as a guardianship with its proof and its end (B06): the
  // consents given with the representative's permission carry it as evidence.
  std::optional<Timestamp> majority_at;
  if (v.majority) majority_at = Timestamp(std::chrono::microseconds(v.minor_until_us));
  std::string representative_evidence;
  if (v.minor && v.representative) {
    domain::Representative rep = *v.representative;
    if (auto email = domain::NormaliseEmail(rep.email)) rep.email = *email;
    ports::GuardianshipRow g = NewGuardianship(deps_.crypto, key, school_id, subject, rep,
                                               email_token, majority_at,
                                               submission.evidence_document, now);
    representative_evidence = RepresentativeEvidence(GuardianshipInfoOf(*cp, g, now));
    batch.guardianships.push_back(std::move(g));
  }

  IntakeReceipt receipt;
  receipt.subject = subject;
  receipt.kind = v.subject_kind;
  receipt.policy_version = version;
  receipt.channel = v.channel;
  receipt.form = v.form;
  receipt.minor = v.minor;
  receipt.at = now;
  // Record ids start with the subject id, so a subject's records sit together in the store's
  // index (one page touched per subject rather than one per record).
  int record_no = 0;
  for (const auto& [field, value] : v.fields) {
    int fi = cp->FieldIndex(field);
    const domain::CompiledField& cf = cp->field(static_cast<size_t>(fi));
    for (const auto& store : cf.stores) {
      ports::RecordRow rec;
      rec.school = school_id;
      rec.id = RecordId(subject.value() + "-" + std::to_string(record_no++));
      rec.subject = subject;
      rec.store = store;
      rec.field = field;
      rec.category = cf.category;
      rec.sealed_value = SealValue(key, school_id, subject, field, rec.id.value(), value);
      rec.source = v.source;
      rec.channel = v.channel;
      rec.form = v.form;
      rec.policy_version = version;
      rec.collected_at = now;
      rec.updated_at = now;
      batch.records.push_back(std::move(rec));
    }
    receipt.fields.push_back(field);
    if (cf.type == "email" || cf.type == "phone") {
      auto token = LookupToken(school_id, cf.type, value);
      if (!token.ok()) return token.error();
      batch.lookups.push_back(ports::LookupRow{school_id, cf.type, *token, subject});
    }
  }
  // R15, R54: marketing ticked on a public subscription form with an e-mail address waits for the
  // double opt-in; nothing but the confirmation letter goes to that address until it is confirmed.
  std::string opt_in_email;
  if (subscriptions_ != nullptr && actor.kind == Actor::Kind::kPublic &&
      SubscriptionService::IsSubscriptionForm(pol, v.form)) {
    for (const auto& [field, value] : v.fields) {
      const int fi = cp->FieldIndex(field);
      if (fi < 0 || cp->field(static_cast<size_t>(fi)).type != "email") continue;
      if (auto email = domain::NormaliseEmail(value)) opt_in_email = *email;
      break;
    }
  }
  std::vector<domain::LedgerEntry> ledger;
  for (const auto& c : v.consents) {
    ports::ConsentRow cr;
    cr.school = school_id;
    cr.id = ConsentId(deps_.crypto.NewId());
    cr.subject = subject;
    cr.consent_type = c.consent_type;
    cr.grants = c.grants;
    cr.action = "grant";
    cr.policy_version = version;
    cr.text = c.text;
    cr.text_sha256 = ports::ToHex(deps_.crypto.Sha256(c.text));
    cr.lang = c.lang;
    cr.channel = v.channel;
    cr.form = v.form;
    cr.checkbox = c.checkbox;
    cr.given_by = v.minor ? "subject_with_representative" : "subject";
    cr.evidence = "{\"ip\":" + JsonQuote(TruncateIp(ctx.ip)) + ",\"user_agent_sha256\":" +
                  JsonQuote(ctx.user_agent.empty()
                                ? std::string()
                                : ports::ToHex(deps_.crypto.Sha256(ctx.user_agent))) +
                  (submission.evidence_document.empty()
                       ? std::string()
                       : ",\"document\":" + JsonQuote(submission.evidence_document)) +
                  (representative_evidence.empty()
                       ? std::string()
                       : ",\"representative\":" + representative_evidence) +
                  provenance + "}";
    cr.at = now;
    int64_t expires = ExpiryUs(*cp, c.term, now);
    if (expires != domain::kForever) {
      cr.expires_at = Timestamp(std::chrono::microseconds(expires));
    }
    if (!opt_in_email.empty()) {
      std::vector<std::string> held = SubscriptionService::HeldGrants(*cp, cr.grants);
      if (!held.empty()) {
        ports::ConsentRow awaited = cr;
        awaited.id = ConsentId(deps_.crypto.NewId());
        awaited.grants = held;
        Status st = subscriptions_->Hold(batch, school_id, awaited, *pseudonym, opt_in_email, ctx);
        if (!st.ok()) return st.error();
        std::erase_if(cr.grants, [&](const std::string& g) {
          return std::find(held.begin(), held.end(), g) != held.end();
        });
        receipt.awaiting_confirmation.insert(receipt.awaiting_confirmation.end(), held.begin(),
                                             held.end());
        if (cr.grants.empty()) continue;  // a marketing-only consent: nothing granted yet
      }
    }
    ledger.push_back(domain::LedgerEntry{cr.consent_type, cr.grants, false, MicrosOf(now), expires});
    auto ct = pol.consents.find(c.consent_type);
    ConsentReceipt rc = ReceiptOf(
        cr, ct == pol.consents.end()
                ? std::string()
                : ct->second.withdrawal_procedure.Get(submission.lang,
                                                      pol.school.authoritative_language));
    receipt.consents.push_back(std::move(rc));
    AuditEvent ce;
    ce.actor = actor.AuditName();
    ce.role = actor.role;
    ce.action = "consent.grant";
    ce.subject_ref = *pseudonym;
    ce.purpose = JoinIds(cr.grants);
    ce.outcome = "ok";
    ce.request_id = ctx.request_id;
    ce.detail = "{\"consent_id\":" + JsonQuote(cr.id.value()) + ",\"consent\":" +
                JsonQuote(cr.consent_type) + ",\"text_sha256\":" + JsonQuote(cr.text_sha256) + "}";
    audit_.Add(batch, school_id, std::move(ce));
    batch.consents.push_back(std::move(cr));
  }
  // B07: the receipt of what was agreed, to the address given, unless the address still waits
  // for its double opt-in (then the confirmation letter is the only one it gets).
  if (outbox_ != nullptr && actor.kind == Actor::Kind::kPublic && !receipt.consents.empty() &&
      receipt.awaiting_confirmation.empty()) {
    std::string to;
    for (const auto& [field, value] : v.fields) {
      const int fi = cp->FieldIndex(field);
      if (fi < 0 || cp->field(static_cast<size_t>(fi)).type != "email") continue;
      if (auto email = domain::NormaliseEmail(value)) to = *email;
      break;
    }
    if (!to.empty()) {
      const std::string& lang = submission.lang;
      const std::string& auth = pol.school.authoritative_language;
      std::string items;
      for (const auto& rc : receipt.consents) {
        items += LetterText("consent_receipt.item", lang,
                            {{"text", rc.text},
                             {"at", LetterDateTime(cp->calendar(), rc.at, lang)},
                             {"hash", rc.text_sha256},
                             {"withdrawal", rc.withdrawal_procedure}}) +
                 "\n\n";
      }
      auto form = pol.forms.find(v.form);
      OutMessage m = Letter(
          "consent_receipt", lang, to,
          {{"school", pol.school.name.Get(lang, auth)},
           {"form", form == pol.forms.end() ? v.form : form->second.title.Get(lang, auth)},
           {"policy_date", pol.version.published ? LetterDay(*pol.version.published, lang)
                                                 : LetterDayText(version, lang)},
           {"consents", items}});
      auto sent = outbox_->Add(batch, school_id, m);
      if (!sent.ok()) return sent.error();
    }
  }
  AuditEvent e;
  e.actor = actor.AuditName();
  e.role = actor.role;
  e.action = "subject.create";
  e.subject_ref = *pseudonym;
  e.fields = JoinIds(receipt.fields);
  e.outcome = "ok";
  e.request_id = ctx.request_id;
  e.detail = "{\"kind\":" + JsonQuote(v.subject_kind) + ",\"channel\":" + JsonQuote(v.channel) +
             ",\"form\":" + JsonQuote(v.form) + ",\"source\":" + JsonQuote(v.source) +
             ",\"policy_version\":" + JsonQuote(version) + provenance + "}";
  audit_.Add(batch, school_id, std::move(e));

  PreparedIntake out;
  out.key = key;
  const int kind = cp->SubjectKindIndex(v.subject_kind);
  out.kind = static_cast<uint16_t>(kind < 0 ? 63 : kind);
  out.minor_until_us = v.minor_until_us;
  out.consents = domain::ConsentWindows(*cp, ledger);
  // B06: consents given with a representative's permission wait for the now-adult.
  out.reconsent_from_us = pol.minors.reconsent_at_majority && v.representative && majority_at
                              ? v.minor_until_us
                              : domain::kForever;
  out.receipt = std::move(receipt);
  return out;
}

void SubjectService::Admit(const SchoolId& school_id, SchoolRuntime& school,
                           const PreparedIntake& p) {
  CacheKey(school_id.value() + "|" + p.receipt.subject.value(), p.key);
  domain::SubjectState s;
  s.kind = p.kind;
  s.minor_until_us = p.minor_until_us;
  s.consents = p.consents;
  s.reconsent_from_us = p.reconsent_from_us;
  school.gate().Admit(p.receipt.subject, std::move(s));
}

Result<SubjectSummary> SubjectService::Get(const SchoolId& school, const SubjectId& subject,
                                           const Actor& actor, const RequestContext& ctx) {
  auto row = deps_.store.GetSubject(school, subject);
  if (!row.ok()) return row.error();
  if (!*row) {
    return Error{ErrorCode::kNotFound, "no such subject", "subject", "subject_unknown"};
  }
  SubjectSummary out;
  out.row = **row;
  auto key = SubjectKey(school, subject);
  if (key.ok() && !out.row.sealed_profile.empty()) {
    auto plain = deps_.crypto.Open(*key, out.row.sealed_profile,
                                   "profile|" + school.value() + "|" + subject.value());
    if (plain.ok()) {
      SubjectProfile p = DecodeProfile(*plain);
      out.minor = MicrosOf(deps_.clock.Now()) < p.minor_until_us;
      out.representative = p.representative;
      out.country = p.country;
      out.statements = std::move(p.statements);
      for (auto& st : out.statements) st.text.clear();  // metadata only: the text is gated
      out.citizenship = p.citizenship;
    }
  }
  out.row.sealed_profile.clear();
  AuditEvent e;
  e.actor = actor.AuditName();
  e.role = actor.role;
  e.action = "subject.metadata";
  e.subject_ref = out.row.pseudonym;
  e.outcome = "ok";
  e.request_id = ctx.request_id;
  (void)audit_.Record(school, std::move(e));
  return out;
}

Result<FieldStatement> SubjectService::AttachStatement(const SchoolId& school,
                                                      const SubjectId& subject,
                                                      const std::string& field,
                                                      const std::string& text, const Actor& actor,
                                                      const RequestContext& ctx) {
  std::lock_guard<std::mutex> lock(ProfileMutex());
  auto row = deps_.store.GetSubject(school, subject);
  if (!row.ok()) return row.error();
  if (!*row) return Error{ErrorCode::kNotFound, "no such subject", "subject", "subject_unknown"};
  auto key = SubjectKey(school, subject);
  if (!key.ok()) return key.error();
  const std::string aad = "profile|" + school.value() + "|" + subject.value();
  SubjectProfile profile;
  if (!(*row)->sealed_profile.empty()) {
    auto plain = deps_.crypto.Open(*key, (*row)->sealed_profile, aad);
    if (!plain.ok()) {
      return Error{ErrorCode::kInternal, "the subject's profile could not be decrypted", {},
                   "integrity"};
    }
    profile = DecodeProfile(*plain);
  }
  FieldStatement st{field, text, deps_.clock.Now()};
  auto& all = profile.statements;
  all.erase(std::remove_if(all.begin(), all.end(),
                           [&](const FieldStatement& s) { return s.field == field; }),
            all.end());
  all.push_back(st);
  ports::SubjectRow updated = **row;
  updated.sealed_profile = deps_.crypto.Seal(*key, EncodeProfile(profile), aad);
  updated.updated_at = st.at;
  ports::WriteBatch batch;
  batch.subjects.push_back(std::move(updated));
  AuditEvent e;
  e.actor = actor.AuditName();
  e.role = actor.role;
  e.action = "subject.statement";
  e.subject_ref = (*row)->pseudonym;
  e.fields = field;
  e.outcome = "ok";
  e.request_id = ctx.request_id;
  audit_.Add(batch, school, std::move(e));
  if (Status c = deps_.store.Commit(std::move(batch)); !c.ok()) return c.error();
  return st;
}

Status SubjectService::CommitFieldDeletion(const SchoolId& school, const SubjectId& subject,
                                           const std::string& field, ports::WriteBatch batch) {
  std::lock_guard<std::mutex> lock(ProfileMutex());
  auto row = deps_.store.GetSubject(school, subject);
  if (!row.ok()) return row.error();
  if (*row && !(*row)->sealed_profile.empty()) {
    auto key = SubjectKey(school, subject);
    if (!key.ok()) return key.error();
    const std::string aad = "profile|" + school.value() + "|" + subject.value();
    auto plain = deps_.crypto.Open(*key, (*row)->sealed_profile, aad);
    if (!plain.ok()) {
      return Error{ErrorCode::kInternal, "the subject's profile could not be decrypted", {},
                   "integrity"};
    }
    SubjectProfile profile = DecodeProfile(*plain);
    auto& all = profile.statements;
    const auto kept = std::remove_if(all.begin(), all.end(),
                                     [&](const FieldStatement& s) { return s.field == field; });
    if (kept != all.end()) {
      all.erase(kept, all.end());
      ports::SubjectRow updated = **row;
      updated.sealed_profile = deps_.crypto.Seal(*key, EncodeProfile(profile), aad);
      updated.updated_at = deps_.clock.Now();
      batch.subjects.push_back(std::move(updated));
    }
  }
  return deps_.store.Commit(std::move(batch));
}

Result<std::vector<FieldStatement>> SubjectService::Statements(const SchoolId& school,
                                                               const SubjectId& subject) {
  auto row = deps_.store.GetSubject(school, subject);
  if (!row.ok()) return row.error();
  if (!*row || (*row)->sealed_profile.empty()) return std::vector<FieldStatement>{};
  auto key = SubjectKey(school, subject);
  if (!key.ok()) return key.error();
  auto plain = deps_.crypto.Open(*key, (*row)->sealed_profile,
                                 "profile|" + school.value() + "|" + subject.value());
  if (!plain.ok()) {
    return Error{ErrorCode::kInternal, "the subject's profile could not be decrypted", {},
                 "integrity"};
  }
  return DecodeProfile(*plain).statements;
}

Result<std::vector<ports::SubjectRow>> SubjectService::List(const SchoolId& school,
                                                            const std::string& after,
                                                            size_t limit,
                                                            const std::set<std::string>* only) {
  if (only != nullptr) {
    std::vector<ports::SubjectRow> out;
    for (auto it = only->upper_bound(after); it != only->end() && out.size() < limit; ++it) {
      auto row = deps_.store.GetSubject(school, SubjectId(*it));
      if (!row.ok()) return row.error();
      if (!*row) continue;  // erased since it was assigned
      out.push_back(std::move(**row));
      out.back().sealed_profile.clear();
    }
    return out;
  }
  auto rows = deps_.store.ListSubjects(school, after, limit);
  if (!rows.ok()) return rows.error();
  for (auto& r : *rows) r.sealed_profile.clear();
  return rows;
}

Result<std::vector<ProvenanceEntry>> SubjectService::Provenance(const SchoolId& school,
                                                                const SubjectId& subject,
                                                                const Actor& actor,
                                                                const RequestContext& ctx) {
  auto row = deps_.store.GetSubject(school, subject);
  if (!row.ok()) return row.error();
  if (!*row) return Error{ErrorCode::kNotFound, "no such subject", "subject", "subject_unknown"};
  auto records = deps_.store.GetRecords(school, subject);
  if (!records.ok()) return records.error();
  std::vector<ProvenanceEntry> out;
  for (const auto& r : *records) {
    out.push_back(ProvenanceEntry{r.field, r.category, r.store, r.source, r.channel, r.form,
                                  r.policy_version, r.collected_at});
  }
  std::sort(out.begin(), out.end(), [](const ProvenanceEntry& a, const ProvenanceEntry& b) {
    return std::tie(a.field, a.store) < std::tie(b.field, b.store);
  });
  AuditEvent e;
  e.actor = actor.AuditName();
  e.role = actor.role;
  e.action = "subject.provenance";
  e.subject_ref = (*row)->pseudonym;
  e.outcome = "ok";
  e.request_id = ctx.request_id;
  (void)audit_.Record(school, std::move(e));
  return out;
}

Status SubjectService::DestroySubject(const SchoolId& school_id, const SubjectId& subject,
                                      const std::string& ground, const Actor& actor,
                                      const RequestContext& ctx, ports::WriteBatch extra,
                                      const std::string& request) {
  auto school = schools_.Get(school_id);
  if (!school.ok()) return school.error();
  auto row = deps_.store.GetSubject(school_id, subject);
  if (!row.ok()) return row.error();
  if (!*row) return Error{ErrorCode::kNotFound, "no such subject", "subject", "subject_unknown"};
  ports::WriteBatch batch = std::move(extra);
  batch.destroyed_keys.emplace_back(school_id, subject);
  batch.erased_subjects.emplace_back(school_id, subject);
  batch.tombstones.push_back(ports::TombstoneRow{school_id, subject, (*row)->pseudonym, ground,
                                                 request, deps_.clock.Now()});
  AuditEvent e;
  e.actor = actor.AuditName();
  e.role = actor.role;
  e.action = "subject.destroy";
  e.subject_ref = (*row)->pseudonym;
  e.outcome = "ok";
  e.reason = ground;
  e.request_id = ctx.request_id;
  e.detail = "{\"tombstone\":true,\"key_destroyed\":true}";
  audit_.Add(batch, school_id, std::move(e));
  Status st = deps_.store.Commit(std::move(batch));
  if (!st.ok()) return st;
  ForgetKey(school_id.value() + "|" + subject.value());
  ForgetRecords(school_id, subject);
  (*school)->gate().Erase(subject);
  return Status::Ok();
}

Result<std::vector<SubjectService::OpenRecord>> SubjectService::OpenAll(const SchoolId& school,
                                                                       const SubjectId& subject) {
  auto rows = deps_.store.GetRecords(school, subject);
  if (!rows.ok()) return rows.error();
  std::vector<OpenRecord> out;
  if (rows->empty()) return out;
  auto key = SubjectKey(school, subject);
  if (!key.ok()) return key.error();
  out.reserve(rows->size());
  for (auto& r : *rows) {
    auto value = OpenValue(*key, r);
    if (!value.ok()) return value.error();
    out.push_back(OpenRecord{std::move(r), std::move(*value)});
  }
  return out;
}

Result<std::vector<SubjectService::OpenRecord>> SubjectService::OpenPage(
    const SchoolId& school, const SubjectId& subject, const std::string& after_id, size_t limit) {
  auto rows = deps_.store.GetRecordsPage(school, subject, after_id, limit);
  if (!rows.ok()) return rows.error();
  std::vector<OpenRecord> out;
  if (rows->empty()) return out;
  auto key = SubjectKey(school, subject);
  if (!key.ok()) return key.error();
  out.reserve(rows->size());
  for (auto& r : *rows) {
    auto value = OpenValue(*key, r);
    if (!value.ok()) return value.error();
    out.push_back(OpenRecord{std::move(r), std::move(*value)});
  }
  return out;
}

Status SubjectService::PrepareFieldUpdate(const SchoolId& school_id, const SubjectId& subject,
                                          const std::map<std::string, std::string>& values,
                                          Timestamp now, ports::WriteBatch& batch) {
  auto school = schools_.Get(school_id);
  if (!school.ok()) return school.error();
  auto cp = (*school)->policy();
  auto rows = deps_.store.GetRecords(school_id, subject);
  if (!rows.ok()) return rows.error();
  auto key = SubjectKey(school_id, subject);
  if (!key.ok()) return key.error();
  for (const auto& [field, value] : values) {
    const int index = cp->FieldIndex(field);
    if (index < 0) {
      return Error::Refused("field_undeclared",
                            "the policy declares no field \"" + field + "\"", field);
    }
    if (static_cast<int64_t>(value.size()) > cp->field(static_cast<size_t>(index)).max_length) {
      return Error::Refused("value_too_long", "the value of \"" + field + "\" is too long", field);
    }
    // An e-mail or phone finds its subject through a lookup token (R37): the old value's token
    // goes and the new one comes in the same batch, and another person's value is refused.
    const std::string& type = cp->field(static_cast<size_t>(index)).type;
    const bool looked_up = type == "email" || type == "phone";
    std::string new_token;
    if (looked_up) {
      auto token = LookupToken(school_id, type, value);
      if (!token.ok()) return token.error();
      auto owner = deps_.store.FindByLookup(school_id, type, *token);
      if (!owner.ok()) return owner.error();
      if (*owner && **owner != subject) {
        Error taken = Error::Conflict("value_taken",
                                      "this " + type + " belongs to another person's record");
        taken.field = field;
        return taken;
      }
      new_token = *token;
    }
    bool held = false;
    for (const auto& r : *rows) {
      if (r.field != field) continue;
      if (looked_up && !held) {
        auto old_value = OpenValue(*key, r);
        if (!old_value.ok()) return old_value.error();
        auto old_token = LookupToken(school_id, type, *old_value);
        if (!old_token.ok()) return old_token.error();
        if (*old_token != new_token) {
          batch.deleted_lookups.push_back(ports::LookupRow{school_id, type, *old_token, subject});
        }
        batch.lookups.push_back(ports::LookupRow{school_id, type, new_token, subject});
      }
      held = true;
      ports::RecordRow updated = r;
      updated.sealed_value = SealValue(*key, school_id, subject, field, r.id.value(), value);
      updated.updated_at = now;
      batch.records.push_back(std::move(updated));
    }
    if (!held) {
      return Error::Refused("field_not_held", "the subject has no \"" + field + "\" on file",
                            field);
    }
  }
  return Status::Ok();
}

Result<SubjectService::RotationReport> SubjectService::RotateKeys(const SchoolId& school,
                                                                  const Actor& actor,
                                                                  const RequestContext& ctx) {
  RotationReport report;
  auto old_ids = deps_.keys.KekIds(school);
  if (!old_ids.ok()) return old_ids.error();
  auto fresh = deps_.keys.AddKek(school);
  if (!fresh.ok()) return fresh.error();
  report.new_kek = *fresh;
  std::vector<ports::SubjectKeyRow> rows;
  Status st = deps_.store.ForEachSubjectKey(school, [&](const ports::SubjectKeyRow& r) {
    if (r.kek_id != *fresh) rows.push_back(r);
  });
  if (!st.ok()) return st.error();
  constexpr size_t kChunk = 500;
  for (size_t i = 0; i < rows.size(); i += kChunk) {
    ports::WriteBatch batch;
    for (size_t j = i; j < std::min(rows.size(), i + kChunk); ++j) {
      const auto& r = rows[j];
      auto key = deps_.keys.Unwrap(school, r.subject, ports::WrappedKey{r.kek_id, r.wrapped_key});
      if (!key.ok()) return key.error();
      auto wrapped = deps_.keys.Wrap(school, r.subject, *key);
      if (!wrapped.ok()) return wrapped.error();
      batch.subject_keys.push_back(
          ports::SubjectKeyRow{school, r.subject, wrapped->kek_id, wrapped->wrapped, r.created_at});
    }
    st = deps_.store.Commit(std::move(batch));
    if (!st.ok()) return st.error();
    report.rewrapped += static_cast<int64_t>(std::min(rows.size(), i + kChunk) - i);
  }
  // A subject created during the rewrap was wrapped with the new key already; anything still on
  // an old key keeps that key alive.
  std::set<std::string> still_used;
  st = deps_.store.ForEachSubjectKey(school, [&](const ports::SubjectKeyRow& r) {
    if (r.kek_id != *fresh) still_used.insert(r.kek_id);
  });
  if (!st.ok()) return st.error();
  for (const auto& id : *old_ids) {
    if (still_used.count(id)) continue;
    Status retired = deps_.keys.RetireKek(school, id);
    if (!retired.ok()) return retired.error();
    report.retired.push_back(id);
  }
  AuditEvent e;
  e.actor = actor.AuditName();
  e.role = actor.role;
  e.action = "keys.rotate";
  e.outcome = "ok";
  e.request_id = ctx.request_id;
  e.detail = "{\"new_kek\":\"" + report.new_kek + "\",\"rewrapped\":" +
             std::to_string(report.rewrapped) + "}";
  (void)audit_.Record(school, std::move(e));
  return report;
}

}  // namespace dovira::services
