// Erasure and destruction (R49, R50, R57, R69): the subject destroyed with a tombstone, the fields
// under legal holds kept until the holds end, and the retention job's settling of ended holds.
#include "services/requests.h"

#include <algorithm>
#include <map>
#include <set>

#include "services/request_internal.h"
#include "services/request_texts.h"
#include "services/retention.h"

namespace dovira::services {

using namespace request_internal;  // NOLINT(google-build-using-namespace)
using domain::RequestState;

Result<RequestInfo> RequestService::CompleteErasure(SchoolRuntime& rt, RequestInfo r,
                                                    const CompleteRequest& in, const Actor& actor,
                                                    const RequestContext& ctx,
                                                    std::unique_lock<std::mutex>& lock) {
  (void)in;
  const std::string ground =
      r.right == "erasure" ? (r.ground.empty() ? "request" : r.ground) : "unlawful_processing";
  lock.unlock();
  return Destroy(rt.id(), std::move(r), ground, actor, ctx);
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
    // R72: so are the fields a legal minimum of their category still keeps, under a hold the
    // erasure places itself (the law, its last day), which the retention job ends like any other.
    auto minimums = LegalMinimumHolds(**rt, r, *holds, ctx, batch);
    if (!minimums.ok()) return minimums.error();
    for (auto& h : *minimums) holds->push_back(std::move(h));
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

Result<std::vector<ports::LegalHoldRow>> RequestService::LegalMinimumHolds(
    const SchoolRuntime& rt, const RequestInfo& r, const std::vector<ports::LegalHoldRow>& in_force,
    const RequestContext& ctx, ports::WriteBatch& batch) {
  std::vector<ports::LegalHoldRow> out;
  auto cp = rt.policy();
  const policy::Policy& p = cp->policy();
  if (p.retention.legal_minimum.empty()) return out;
  const SchoolId& school = rt.id();
  auto stored = LoadRetentionFacts(deps_.store, school, SubjectId(r.subject));
  if (!stored.ok()) return stored.error();
  if (!*stored) return out;
  const Timestamp now = deps_.clock.Now();
  const std::vector<LegalMinimumKeep> keeps =
      LegalMinimumsInForce(*cp, (*stored)->facts, (*stored)->records, now);
  // One hold per law and last day, naming the categories it keeps; a field a hold in force
  // already keeps at least as long needs none.
  std::map<std::pair<std::string, std::string>, std::vector<const LegalMinimumKeep*>> groups;
  for (const auto& k : keeps) {
    const bool covered =
        std::any_of(in_force.begin(), in_force.end(), [&](const ports::LegalHoldRow& h) {
          return h.until >= k.until &&
                 std::find(h.fields.begin(), h.fields.end(), k.field) != h.fields.end();
        });
    if (!covered) groups[{k.law, k.until}].push_back(&k);
  }
  const std::string lang = MessageLang(r.lang);
  const Actor job = Actor::System("retention");
  for (const auto& [key, fields] : groups) {
    ports::LegalHoldRow h;
    h.school = school;
    h.id = "hold_" + deps_.crypto.NewId();
    h.subject = SubjectId(r.subject);
    std::set<std::string> categories;
    for (const LegalMinimumKeep* k : fields) {
      h.fields.push_back(k->field);
      categories.insert(k->category);
    }
    h.categories.assign(categories.begin(), categories.end());
    h.reason = RenderMessage("legal_minimum_reason", lang,
                             {{"categories", CategoryTitles(p, h.categories, lang)}})
                   .body;
    h.basis = key.first;
    h.until = key.second;
    h.state = "active";
    h.notify_subject = true;
    h.created_at = now;
    h.created_by = job.AuditName();
    holds_->Stage(batch, h, "place", job, ctx);
    out.push_back(std::move(h));
  }
  return out;
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
