// Withdrawal of consent (R55-R59): what follows it at filing (consents withdrawn from receipt, the
// destruction due, the consent-only fields destroyed at once) and its completion (a recorded
// need to keep the data, else destruction).
#include "services/requests.h"

#include <map>
#include <set>

#include "calendar/term.h"
#include "services/request_internal.h"
#include "services/request_texts.h"

namespace dovira::services {

using namespace request_internal;  // NOLINT(google-build-using-namespace)
using domain::RequestState;

Status RequestService::WithdrawAtFiling(const SchoolId& school, const domain::CompiledPolicy& cpol,
                                        RequestInfo& r, Timestamp received,
                                        ports::WriteBatch& batch, const Actor& actor,
                                        const RequestContext& ctx, FilingEffect& out) {
  const domain::CompiledPolicy* cp = &cpol;
  const policy::Policy& p = cp->policy();
  const Timestamp now = deps_.clock.Now();
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
  out.destroy_now = all && immediate && destroys;  // R57, R69: before the API answers
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
      out.held_extra = HeldText(*cp, r.lang, holds, held);
    }
    r.fields.assign(destroyed.begin(), destroyed.end());
    r.state = domain::RequestStateName(RequestState::kDone);
    r.outcome = "consent_only_destroyed";
    r.closed_at = now;
    out.forget_records = true;
  }
  if (!all) {
    r.state = domain::RequestStateName(RequestState::kDone);
    r.outcome = "withdrawn";
    r.closed_at = now;
  }

  return Status::Ok();
}

Result<RequestInfo> RequestService::CompleteWithdrawal(SchoolRuntime& rt, RequestInfo r,
                                                       const CompleteRequest& in,
                                                       const Actor& actor,
                                                       const RequestContext& ctx,
                                                       std::unique_lock<std::mutex>& lock) {
  const SchoolId& school = rt.id();
  const policy::Policy& p = rt.policy()->policy();
  ports::WriteBatch batch;
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

}  // namespace dovira::services
