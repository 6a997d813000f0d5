#include "services/data_access.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <future>
#include <memory>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "domain/intake.h"

namespace dovira::services {
namespace {

using Json = nlohmann::ordered_json;

// Reasons that concern the subject's own state rather than the actor or the request.
bool ConcernsSubject(const std::string& reason) {
  static const std::set<std::string> kActorOrRequest = {
      "purpose_undeclared", "purpose_disabled", "purpose_not_allowed_for_key", "briefing_required",
      "role_denied",        "field_unknown",    "field_not_in_purpose",        "field_not_in_role",
      "subject_unknown",    "gate_unavailable", "depersonalised_only", "decision_role_required"};
  return !kActorOrRequest.count(reason);
}

bool IsStale(const Status& st) { return !st.ok() && st.error().reason == ports::kGateStale; }

Error StaleTooOften() {
  return Error{ErrorCode::kUnavailable,
               "the subject kept changing while the decision was made; try again", {},
               "gate_unavailable"};
}

}  // namespace

// One thread and a queue: the second decisions of uses found stale.
class DataAccessService::Retrier {
 public:
  Retrier() : thread_([this] { Run(); }) {}
  ~Retrier() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  void Post(std::function<void()> task) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!stopping_) {
        tasks_.push_back(std::move(task));
        cv_.notify_one();
        return;
      }
    }
    task();  // closing: the caller runs it
  }

 private:
  void Run() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
        if (tasks_.empty()) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::thread thread_;                       // last: started once the rest is ready
};

DataAccessService::DataAccessService(Deps deps, Schools& schools, SubjectService& subjects,
                                     AuditLog& audit)
    : deps_(deps),
      schools_(schools),
      subjects_(subjects),
      audit_(audit),
      retrier_(std::make_unique<Retrier>()) {}

DataAccessService::~DataAccessService() {
  // The store outlives this service: its writer still runs the commit callbacks of the uses in
  // flight, and their second decisions, which refer to this service.
  std::unique_lock<std::mutex> lock(inflight_mu_);
  inflight_cv_.wait(lock, [this] { return inflight_ == 0; });
}

DataAccessService::Done DataAccessService::Tracked(Done done) {
  {
    std::lock_guard<std::mutex> lock(inflight_mu_);
    ++inflight_;
  }
  return [this, done = std::move(done)](Result<AccessResult> r) {
    done(std::move(r));
    std::lock_guard<std::mutex> lock(inflight_mu_);
    if (--inflight_ == 0) inflight_cv_.notify_all();
  };
}

void DataAccessService::SetSubjectReloader(SubjectReloader reload) { reload_ = std::move(reload); }

bool DataAccessService::RetryStale(const Status& committed, int attempt) const {
  return IsStale(committed) && attempt + 1 < kMaxStaleAttempts;
}

Status DataAccessService::ReloadSubject(const SchoolId& school, const SubjectId& subject) {
  if (!reload_) return Error::Unavailable("the subject's state cannot be reloaded");
  return reload_(school, subject);
}

AccessResult DataAccessService::DecideOnly(const SchoolRuntime& school,
                                           const domain::CompiledPolicy& cp,
                                           const AccessRequest& req, const Actor& actor,
                                           bool opens_values) {
  AccessResult out;
  auto deny = [&](const char* reason, int status) {
    out.allowed = false;
    out.reason = reason;
    out.status = status;
    return out;
  };
  // An undeclared purpose is refused as such, whoever asks (R28).
  const int purpose = cp.PurposeIndex(req.purpose);
  if (purpose < 0) return deny("purpose_undeclared", 403);
  // R34: statistics and research run on depersonalised data only; identified rows are refused
  // whoever asks, and the data set comes from the anonymiser instead.
  if (opens_values && cp.purpose(static_cast<size_t>(purpose)).depersonalised_only) {
    return deny("depersonalised_only", 403);
  }
  // Actor rules come next: an API key states only its own purposes; staff read personal data
  // only after their briefing is recorded (R87).
  if (actor.kind == Actor::Kind::kApiKey &&
      std::find(actor.purposes.begin(), actor.purposes.end(), req.purpose) ==
          actor.purposes.end()) {
    return deny("purpose_not_allowed_for_key", 403);
  }
  if (actor.kind == Actor::Kind::kStaff && !actor.briefed &&
      req.operation != domain::Operation::kStore) {
    return deny("briefing_required", 403);
  }
  domain::GateRequest g;
  g.purpose = purpose;
  g.role = actor.role.empty() ? -1 : cp.RoleIndex(actor.role);
  if (!actor.role.empty() && g.role < 0) return deny("role_denied", 403);
  // R86 (002 L60): the people of an affiliate or a contractor reach only the subjects assigned
  // to their organisation; any other subject is answered as if it did not exist.
  if (g.role >= 0 && cp.role(static_cast<size_t>(g.role)).scoped &&
      !school.assignments().Assigned(actor.organisation, req.subject)) {
    // Checked like a decision on the subject's state: an assignment made on another server
    // raises the subject's gate version.
    out.gate_version = school.gate().With(req.subject, [](const domain::SubjectState* s) {
      return s != nullptr ? s->version : int64_t{0};
    });
    return deny("subject_unknown", 404);
  }
  // R31 (002 L64): a purpose without a standing decision is used only on a decision taken case by
  // case by a person of the role the policy names; a system (an API key) takes no such decision.
  const domain::CompiledPurpose& pu = cp.purpose(static_cast<size_t>(purpose));
  if (pu.per_case && (actor.kind != Actor::Kind::kStaff ||
                      actor.role != cp.policy().decisions.decided_by)) {
    return deny("decision_role_required", 403);
  }
  g.operation = req.operation;
  g.all_fields = req.fields.empty();
  for (const auto& f : req.fields) {
    int fi = cp.FieldIndex(f);
    if (fi < 0) return deny("field_unknown", 403);
    g.fields.Set(static_cast<size_t>(fi));
  }
  g.now_us = deps_.clock.Now().time_since_epoch().count();
  // R86, 004 §6.4: a break-glass grant in force for this staff member, subject and purpose
  // reaches its category beyond the role; it names itself in the use's audit entry.
  domain::GrantedAccess granted;
  if (actor.kind == Actor::Kind::kStaff && g.role >= 0) {
    granted = school.grants().For(actor.id, req.subject, purpose, g.now_us);
    g.granted_fields = granted.fields;
  }
  domain::Decision d = school.gate().With(req.subject, [&](const domain::SubjectState* s) {
    out.gate_version = s != nullptr ? s->version : int64_t{0};
    return domain::Decide(&cp, s, g);
  });
  out.allowed = d.allowed();
  out.reason = domain::ReasonCode(d.reason);
  out.status = domain::ReasonStatus(d.reason);
  if (out.allowed) {
    out.fields = cp.FieldIds(d.fields);
    out.standing_decision = pu.standing_decision;
    if (pu.per_case) out.decided_by = actor.AuditName();
    out.break_glass = granted.grants;
  }
  return out;
}

ports::WriteBatch DataAccessService::AuditBatch(const SchoolId& school, const AccessRequest& req,
                                                const AccessResult& result,
                                                const std::string& subject_ref, const Actor& actor,
                                                const RequestContext& ctx,
                                                const std::string& detail) {
  ports::WriteBatch batch;
  // Reads are not writes the client asked for: their entries need to survive a crash of the
  // process, not a power cut, so they share the next fsync instead of forcing one.
  batch.power_safe = req.operation != domain::Operation::kRead;
  if (reload_ && result.gate_version) {
    batch.gate_checks.push_back(ports::GateCheck{school, req.subject, *result.gate_version});
  }
  AuditEvent e;
  e.actor = actor.AuditName();
  e.role = actor.role;
  e.action = std::string("gate.") + domain::OperationName(req.operation);
  e.subject_ref = subject_ref;
  e.purpose = req.purpose;
  e.fields = JoinIds(result.allowed ? result.fields : req.fields);
  e.outcome = result.allowed ? "allow" : "deny";
  e.reason = result.reason;
  e.decision_id = result.decision_id;
  e.request_id = ctx.request_id;
  e.detail = detail;
  if (!result.standing_decision.empty() || !result.decided_by.empty() ||
      !result.break_glass.empty()) {
    Json d = detail.empty() ? Json::object() : Json::parse(detail);
    if (!result.standing_decision.empty()) d["standing_decision"] = result.standing_decision;
    if (!result.decided_by.empty()) d["decided_by"] = result.decided_by;
    if (!result.break_glass.empty()) d["break_glass"] = result.break_glass;
    e.detail = d.dump();
  }
  audit_.Add(batch, school, std::move(e));
  return batch;
}

Result<AccessResult> DataAccessService::DecideInMemory(const SchoolId& school_id,
                                                       const AccessRequest& req,
                                                       const Actor& actor, bool opens_values) {
  auto school = schools_.Get(school_id);
  if (!school.ok()) return school.error();
  auto cp = (*school)->policy();
  AccessResult result;
  if (!cp) {
    // B12: no policy in force, no processing.
    result.reason = "gate_unavailable";
    result.status = 503;
  } else {
    result = DecideOnly(**school, *cp, req, actor, opens_values);
  }
  result.decision_id = "dec_" + deps_.crypto.NewId();
  return result;
}

Status DataAccessService::OpenValues(const SchoolId& school_id, const AccessRequest& req,
                                     AccessResult& result) {
  auto key = subjects_.SubjectKey(school_id, req.subject);
  if (!key.ok()) return key.error();
  auto school = schools_.Get(school_id);
  if (!school.ok()) return school.error();
  auto cp = (*school)->policy();
  const int p = cp->PurposeIndex(req.purpose);
  const std::string& store = cp->purpose(static_cast<size_t>(p)).store;
  // Only the purpose's own store is read (R92): intake keeps a copy of every field in the store
  // of each purpose that uses it.
  auto records = subjects_.StoreRecords(school_id, req.subject, store);
  if (!records.ok()) return records.error();
  for (const auto& r : **records) {
    if (std::find(result.fields.begin(), result.fields.end(), r.field) == result.fields.end()) {
      continue;
    }
    auto value = subjects_.OpenValue(*key, r);
    if (!value.ok()) {
      return Error{ErrorCode::kInternal, "a stored value could not be decrypted", r.field,
                   "integrity"};
    }
    result.values[r.field] = *value;
  }
  // R44: a statement the subject attached to a released field goes with its value.
  auto statements = subjects_.Statements(school_id, req.subject);
  if (!statements.ok()) return statements.error();
  for (auto& st : *statements) {
    if (result.values.count(st.field)) result.statements[st.field] = std::move(st.text);
  }
  return Status::Ok();
}

Result<AccessResult> DataAccessService::Decide(const SchoolId& school_id, const AccessRequest& req,
                                               const Actor& actor, const RequestContext& ctx) {
  std::promise<Result<AccessResult>> p;
  auto f = p.get_future();
  DecideAsync(school_id, req, actor, ctx,
              [&p](Result<AccessResult> r) { p.set_value(std::move(r)); });
  return f.get();
}

Result<AccessResult> DataAccessService::Read(const SchoolId& school_id, const AccessRequest& req,
                                             const Actor& actor, const RequestContext& ctx) {
  std::promise<Result<AccessResult>> p;
  auto f = p.get_future();
  ReadAsync(school_id, req, actor, ctx,
            [&p](Result<AccessResult> r) { p.set_value(std::move(r)); });
  return f.get();
}

void DataAccessService::DecideAsync(const SchoolId& school_id, const AccessRequest& req,
                                    const Actor& actor, const RequestContext& ctx, Done done) {
  UseAsync(school_id, req, actor, ctx, Tracked(std::move(done)), /*open_values=*/false, 0);
}

void DataAccessService::ReadAsync(const SchoolId& school_id, const AccessRequest& req,
                                  const Actor& actor, const RequestContext& ctx, Done done) {
  UseAsync(school_id, req, actor, ctx, Tracked(std::move(done)), /*open_values=*/true, 0);
}

void DataAccessService::UseAsync(const SchoolId& school_id, const AccessRequest& req,
                                 const Actor& actor, const RequestContext& ctx, Done done,
                                 bool open_values, int attempt) {
  auto decided = DecideInMemory(school_id, req, actor, open_values);
  if (!decided.ok()) return done(decided.error());
  std::optional<Error> failed;
  if (open_values && decided->allowed) {
    Status opened = OpenValues(school_id, req, *decided);
    if (!opened.ok()) {
      // Record the failure instead of the release, and answer with the error.
      decided->allowed = false;
      decided->reason = opened.error().ReasonOrCode();
      decided->values.clear();
      failed = opened.error();
    }
  }
  auto pn = audit_.Pseudonym(school_id, req.subject);
  ports::WriteBatch batch =
      AuditBatch(school_id, req, *decided, pn.ok() ? *pn : std::string(), actor, ctx);
  auto result = std::make_shared<AccessResult>(std::move(*decided));
  deps_.store.Submit(std::move(batch), [this, result, failed, school_id, req, actor, ctx,
                                        open_values, attempt,
                                        done = std::move(done)](Status st) mutable {
    if (RetryStale(st, attempt)) {
      // Decided on state another change has overtaken: nothing was recorded or released. The
      // state is reloaded and the use decided again, off the writer thread.
      retrier_->Post([this, school_id, req, actor, ctx, open_values, attempt,
                      done = std::move(done)]() mutable {
        Status reloaded = ReloadSubject(school_id, req.subject);
        if (!reloaded.ok()) {
          return done(Error{ErrorCode::kUnavailable, "the decision could not be made", {},
                            "gate_unavailable"});
        }
        UseAsync(school_id, req, actor, ctx, std::move(done), open_values, attempt + 1);
      });
      return;
    }
    if (IsStale(st)) return done(StaleTooOften());
    // No audit, no processing (fail closed).
    if (!st.ok()) {
      return done(Error{ErrorCode::kUnavailable, "the decision could not be recorded", {},
                        "gate_unavailable"});
    }
    if (failed) return done(*failed);
    done(std::move(*result));
  });
}

Result<SearchResult> DataAccessService::Search(const SchoolId& school_id, const SearchRequest& req,
                                               const Actor& actor, const RequestContext& ctx) {
  std::string value;
  if (req.by == "email") {
    auto email = domain::NormaliseEmail(req.value);
    if (!email) return Error::Invalid("\"email\" is not an e-mail address", "email");
    value = std::move(*email);
  } else if (req.by == "phone") {
    domain::CompiledField phone;
    phone.id = "phone";
    phone.type = "phone";
    auto v = domain::ValidateFieldValue(phone, req.value);
    if (!v.ok()) return Error::Invalid("\"phone\": " + v.error().message, "phone");
    value = std::move(*v);
  } else {
    return Error::Invalid("search by \"email\" or \"phone\"", "by");
  }
  auto token = subjects_.LookupToken(school_id, req.by, value);
  if (!token.ok()) return token.error();
  auto found = deps_.store.FindByLookup(school_id, req.by, *token);
  if (!found.ok()) return found.error();

  AccessRequest access{found->value_or(SubjectId("")), req.purpose, req.fields,
                       domain::Operation::kRead};
  std::string subject_ref;
  if (*found) {
    auto pn = audit_.Pseudonym(school_id, **found);
    if (pn.ok()) subject_ref = *pn;
  }
  const std::string detail =
      "{\"lookup\":" + JsonQuote(req.by) + ",\"matched\":" + (*found ? "true" : "false") + "}";
  Result<AccessResult> decided = Error::Unavailable("not decided");
  std::optional<Error> failed;
  for (int attempt = 0;; ++attempt) {
    decided = DecideInMemory(school_id, access, actor, /*opens_values=*/true);
    if (!decided.ok()) return decided.error();
    failed.reset();
    if (decided->allowed) {
      Status opened = OpenValues(school_id, access, *decided);
      if (!opened.ok()) {
        decided->allowed = false;
        decided->reason = opened.error().ReasonOrCode();
        decided->values.clear();
        failed = opened.error();
      }
    }
    Status st = deps_.store.Commit(
        AuditBatch(school_id, access, *decided, subject_ref, actor, ctx, detail));
    if (RetryStale(st, attempt)) {
      // Decided on overtaken state (see SetSubjectReloader): reload and decide again.
      if (Status reloaded = ReloadSubject(school_id, access.subject); !reloaded.ok()) {
        return Error{ErrorCode::kUnavailable, "the decision could not be made", {},
                     "gate_unavailable"};
      }
      continue;
    }
    if (IsStale(st)) return StaleTooOften();
    // No audit, no processing (fail closed).
    if (!st.ok()) {
      return Error{ErrorCode::kUnavailable, "the decision could not be recorded", {},
                   "gate_unavailable"};
    }
    break;
  }
  if (failed) return *failed;
  SearchResult out;
  if (*found && (decided->allowed || ConcernsSubject(decided->reason))) out.subject = **found;
  out.access = std::move(*decided);
  return out;
}

Result<ProfilingRunResult> DataAccessService::ProfilingRun(const SchoolId& school_id,
                                                          const ProfilingRunRequest& req,
                                                          const Actor& actor,
                                                          const RequestContext& ctx) {
  constexpr size_t kMaxSubjects = 10000;
  if (req.purpose.empty()) return Error::Invalid("purpose is required", "purpose");
  if (req.subjects.empty()) {
    return Error::Invalid("subjects must name at least one subject", "subjects");
  }
  if (req.subjects.size() > kMaxSubjects) {
    return Error::Invalid("subjects may name at most 10000 subjects per run", "subjects");
  }
  std::set<std::string> seen;
  for (const auto& s : req.subjects) {
    if (s.value().empty()) return Error::Invalid("subjects holds an empty id", "subjects");
    if (!seen.insert(s.value()).second) {
      return Error::Invalid("subjects names \"" + s.value() + "\" twice", "subjects");
    }
  }
  auto school = schools_.Get(school_id);
  if (!school.ok()) return school.error();
  auto cp = (*school)->policy();
  if (!cp) {
    return Error{ErrorCode::kUnavailable, "the school's policy is not loaded", {},
                 "gate_unavailable"};
  }
  for (int attempt = 0;; ++attempt) {
    auto run = ProfilingRunOnce(**school, *cp, req, actor, ctx);
    if (!run.ok()) return run.error();
    auto& [out, batch, versions] = *run;
    std::promise<Status> committed;
    auto f = committed.get_future();
    deps_.store.Submit(std::move(batch), [&committed](Status st) { committed.set_value(st); });
    Status st = f.get();
    if (RetryStale(st, attempt)) {
      // Some subject changed since its decision (see SetSubjectReloader): reload each one whose
      // stored gate version is not the one decided on, and decide the run again.
      for (const auto& [subject, version] : versions) {
        auto stored = deps_.store.GetGateVersion(school_id, subject);
        if (stored.ok() && *stored == version) continue;
        if (Status reloaded = ReloadSubject(school_id, subject); !reloaded.ok()) {
          return Error{ErrorCode::kUnavailable, "the profiling run could not be decided", {},
                       "gate_unavailable"};
        }
      }
      continue;
    }
    if (IsStale(st)) return StaleTooOften();
    if (!st.ok()) {
      return Error{ErrorCode::kUnavailable, "the profiling run could not be recorded", {},
                   "gate_unavailable"};
    }
    return std::move(out);
  }
}

Result<DataAccessService::ProfilingRunParts> DataAccessService::ProfilingRunOnce(
    const SchoolRuntime& school, const domain::CompiledPolicy& cp, const ProfilingRunRequest& req,
    const Actor& actor, const RequestContext& ctx) {
  const SchoolId& school_id = school.id();
  ProfilingRunResult out;
  out.id = "prf_" + deps_.crypto.NewId();
  out.purpose = req.purpose;
  const Json run_detail = {{"run", out.id}};
  ports::WriteBatch batch;
  batch.power_safe = true;
  std::vector<std::pair<SubjectId, int64_t>> versions;
  for (const auto& subject : req.subjects) {
    AccessRequest one{subject, req.purpose, {}, domain::Operation::kProfile};
    AccessResult r = DecideOnly(school, cp, one, actor);
    if (r.gate_version) versions.emplace_back(subject, *r.gate_version);
    // The actor's own refusal is the same for every subject: the run is refused as a whole.
    if (!r.allowed && r.reason != "subject_unknown" && !ConcernsSubject(r.reason)) {
      return Error{ErrorCode::kPermissionDenied,
                   "the profiling run is refused: " + r.reason, "purpose", r.reason};
    }
    r.decision_id = "dec_" + deps_.crypto.NewId();
    auto pn = audit_.Pseudonym(school_id, subject);
    ports::WriteBatch one_batch = AuditBatch(school_id, one, r, pn.ok() ? *pn : std::string(),
                                             actor, ctx, run_detail.dump());
    for (auto& a : one_batch.audit) batch.audit.push_back(std::move(a));
    for (auto& c : one_batch.gate_checks) batch.gate_checks.push_back(std::move(c));
    ProfilingRunResult::Entry e{subject, r.reason, r.decision_id};
    (r.allowed ? out.included : out.skipped).push_back(std::move(e));
  }
  std::map<std::string, size_t> reasons;
  for (const auto& e : out.skipped) ++reasons[e.reason];
  AuditEvent summary;
  summary.actor = actor.AuditName();
  summary.role = actor.role;
  summary.action = "profiling.run";
  summary.purpose = req.purpose;
  summary.outcome = "ok";
  summary.decision_id = out.id;
  summary.request_id = ctx.request_id;
  summary.detail = Json{{"included", out.included.size()},
                        {"skipped", out.skipped.size()},
                        {"skipped_by_reason", reasons}}
                       .dump();
  audit_.Add(batch, school_id, std::move(summary));
  return ProfilingRunParts{std::move(out), std::move(batch), std::move(versions)};
}

}  // namespace dovira::services
