// Access and information (R38-R43) and portability (R54): the access package, built in memory for
// the e-mailed answer or streamed page by page to the HTTP client (PackageWriter), what a
// subject's cabinet shows without a request (SubjectPackage), and the completion of these
// requests: the package attached to the answer and, for portability, sent to the destination.
#include "services/requests.h"

#include <algorithm>
#include <map>
#include <set>

#include "calendar/date.h"
#include "calendar/term.h"
#include "services/request_internal.h"
#include "services/request_texts.h"

namespace dovira::services {

using namespace request_internal;  // NOLINT(google-build-using-namespace)
using domain::RequestState;

namespace {

// What a subject's records contribute to the access package's summary parts (R40).
struct PackageFacts {
  std::set<std::string> categories, purposes, sources;
  size_t records = 0;
};

void AddFacts(const domain::CompiledPolicy& cp, const ports::RecordRow& row, PackageFacts& f) {
  ++f.records;
  f.categories.insert(row.category);
  f.sources.insert(row.source + "/" + row.channel);
  const int fi = cp.FieldIndex(row.field);
  for (size_t i = 0; fi >= 0 && i < cp.purpose_count(); ++i) {
    if (cp.purpose(i).fields.Test(static_cast<size_t>(fi))) f.purposes.insert(cp.purpose(i).id);
  }
}

// True when `row` adds nothing to `f` but its count: the package's summary, written before the
// records, still describes them.
bool CoveredBy(const domain::CompiledPolicy& cp, const ports::RecordRow& row,
               const PackageFacts& f) {
  PackageFacts one;
  AddFacts(cp, row, one);
  return std::includes(f.categories.begin(), f.categories.end(), one.categories.begin(),
                       one.categories.end()) &&
         std::includes(f.sources.begin(), f.sources.end(), one.sources.begin(),
                       one.sources.end()) &&
         std::includes(f.purposes.begin(), f.purposes.end(), one.purposes.begin(),
                       one.purposes.end());
}

// R50: held data are ordinary data until erased: the package lists them, each marked with the
// hold that keeps it, and names the holds in force.
struct HeldMarks {
  std::map<std::string, Json> by_field;  // field → {hold, until}
  Json holds = Json::array();
};

Result<HeldMarks> HeldMarksOf(ports::Store& store, SchoolRuntime& school,
                              const std::string& subject, Timestamp at) {
  HeldMarks marks;
  if (subject.empty()) return marks;
  auto rows = store.ListLegalHolds(school.id(), SubjectId(subject));
  if (!rows.ok()) return rows.error();
  const std::string today = calendar::FormatDate(
      school.policy()->calendar().LocalDate(std::chrono::floor<std::chrono::seconds>(at)));
  for (const auto& h : *rows) {
    if (!LegalHoldService::InForceOn(h, today)) continue;
    for (const auto& f : h.fields) marks.by_field[f] = {{"hold", h.id}, {"until", h.until}};
    marks.holds.push_back({{"id", h.id},
                           {"fields", h.fields},
                           {"reason", h.reason},
                           {"basis", h.basis},
                           {"until", h.until}});
  }
  return marks;
}

Json PackageItem(const SubjectService::OpenRecord& rec, const HeldMarks& marks) {
  Json item = {{"field", rec.row.field},
               {"category", rec.row.category},
               {"store", rec.row.store},
               {"value", rec.value},
               {"source", rec.row.source},
               {"channel", rec.row.channel},
               {"collected_at", FormatTimestamp(rec.row.collected_at)}};
  auto it = marks.by_field.find(rec.row.field);
  if (it != marks.by_field.end()) item["held"] = it->second;
  return item;
}

// The access package with `data` as given: everything but the records comes from the policy, the
// facts and the consent ledger.
Result<Json> PackageJson(ports::Store& store, DisclosureService& disclosure_log, SchoolRuntime& school,
                         const RequestInfo& r, const PackageFacts& facts, const HeldMarks& marks,
                         Json data, Timestamp generated_at) {
  auto cp = school.policy();
  const policy::Policy& p = cp->policy();
  const std::string lang = MessageLang(r.lang);
  auto none_if_empty = [](Json j) { return j.empty() ? Json("none") : j; };
  Json cats = Json::array();
  for (const auto& c : facts.categories) {
    auto it = p.categories.find(c);
    cats.push_back({{"id", c}, {"title", it == p.categories.end() ? c : it->second.title.Get(lang)}});
  }
  Json purp = Json::array(), retention = Json::array();
  std::set<std::string> recipient_ids;
  for (const auto& id : facts.purposes) {
    const policy::Purpose* pu = p.FindPurpose(id);
    if (pu == nullptr) continue;
    purp.push_back({{"id", id}, {"title", pu->title.Get(lang)}, {"basis", pu->basis}});
    retention.push_back(
        {{"purpose", id},
         {"term", pu->retention ? calendar::FormatTerm(*pu->retention) : "while_needed"}});
    for (const auto& [rid, rec] : p.recipients) {
      if (Contains(rec.purposes, id) || Contains(pu->recipients, rid)) recipient_ids.insert(rid);
    }
  }
  // R42, R76: what was actually disclosed, from the log (all of it: the log is kept as long as
  // the subject, so it covers the year before the request and more).
  std::vector<ports::DisclosureRow> log;
  if (!r.subject.empty()) {
    ports::DisclosureFilter f;
    f.subject = r.subject;
    f.limit = 100000;
    auto rows = disclosure_log.List(school.id(), f);
    if (!rows.ok()) return rows.error();
    log = std::move(*rows);
  }
  std::map<std::string, Json> received;  // recipient → its disclosures, newest first
  std::map<std::string, std::set<std::string>> received_categories, received_fields;
  std::map<std::string, std::set<std::string>> used_safeguards, used_countries;
  Json disclosures = Json::array();
  for (const auto& d : log) {
    Json entry = {{"at", FormatTimestamp(d.at)},
                  {"categories", d.categories},
                  {"fields", d.fields},
                  {"purpose", d.purpose},
                  {"basis", d.basis},
                  {"safeguard", d.safeguard},
                  {"country", d.country}};
    received[d.recipient].push_back(entry);
    entry["recipient"] = d.recipient;
    disclosures.push_back(std::move(entry));
    received_categories[d.recipient].insert(d.categories.begin(), d.categories.end());
    received_fields[d.recipient].insert(d.fields.begin(), d.fields.end());
    used_safeguards[d.recipient].insert(d.safeguard);
    if (!d.country.empty()) used_countries[d.recipient].insert(d.country);
    recipient_ids.insert(d.recipient);
  }
  Json recipients = Json::array(), safeguards = Json::array();
  for (const auto& rid : recipient_ids) {
    auto pr = p.recipients.find(rid);
    if (pr == p.recipients.end()) continue;
    const policy::Recipient& rec = pr->second;
    auto got = received.find(rid);
    recipients.push_back({{"id", rid},
                          {"title", rec.title.Get(lang)},
                          {"kind", rec.kind},
                          {"countries", rec.countries},
                          {"received", got == received.end() ? Json::array() : got->second}});
    if (rec.safeguard != "none") {
      safeguards.push_back({{"recipient", rid}, {"safeguard", rec.safeguard}});
    }
  }
  Json src = Json::array();
  for (const auto& s : facts.sources) src.push_back(s);
  Json package = {
      {"request", r.id},
      {"school", school.id().value()},
      {"policy_version", school.version()},
      {"generated_at", FormatTimestamp(generated_at)},
      {"confirmation", !r.subject.empty() && !data.empty()},
      {"data", none_if_empty(data)},
      {"categories", none_if_empty(cats)},
      {"purposes", none_if_empty(purp)},
      {"operations", Json::array({"collection", "recording", "storage", "use", "erasure"})},
      {"recipients", none_if_empty(recipients)},
      {"disclosures", none_if_empty(disclosures)},
      {"transfer_safeguards", none_if_empty(safeguards)},
      {"retention", none_if_empty(retention)},
      {"sources", none_if_empty(src)},
      {"automated_decisions", p.automated_decisions.solely_automated_allowed},
      {"profiling", p.automated_decisions.profiling},
  };
  if (!marks.holds.empty()) package["legal_holds"] = marks.holds;
  if (r.right == "transfer_info") {
    // R43: every third party the data went to, what it received, and the standard contractual
    // clauses for each transfer made under them (R85).
    Json transfers = Json::array();
    for (const auto& [rid, rcats] : received_categories) {
      auto pr = p.recipients.find(rid);
      const bool scc = used_safeguards[rid].count("scc") != 0 ||
                       (pr != p.recipients.end() && pr->second.safeguard == "scc");
      Json t = {{"recipient", rid},
                {"title", pr == p.recipients.end() ? rid : pr->second.title.Get(lang)},
                {"countries", used_countries[rid].empty() && pr != p.recipients.end()
                                  ? Json(pr->second.countries)
                                  : Json(used_countries[rid])},
                {"categories", rcats},
                {"fields", received_fields[rid]},
                {"safeguards", used_safeguards[rid]},
                {"standard_contractual_clauses", nullptr}};
      if (scc) {
        auto contact = disclosure_log.Contact(school.id(), rid);
        if (!contact.ok()) return contact.error();
        const std::string url = *contact ? (*contact)->scc_document_url : std::string();
        t["standard_contractual_clauses"] =
            url.empty() ? Json{{"on_file", false}, {"document", nullptr}}
                        : Json{{"on_file", true}, {"document", url}};
      }
      transfers.push_back(std::move(t));
    }
    package["transfers"] = none_if_empty(transfers);
  }
  if (!r.subject.empty()) {
    Json consents = Json::array();
    auto ledger = store.GetConsents(school.id(), SubjectId(r.subject));
    if (ledger.ok()) {
      for (const auto& c : *ledger) {
        consents.push_back({{"consent", c.consent_type},
                            {"action", c.action},
                            {"grants", c.grants},
                            {"at", FormatTimestamp(c.at)},
                            {"channel", c.channel},
                            {"policy_version", c.policy_version}});
      }
    }
    package["consents"] = none_if_empty(consents);
  }
  return package;
}

// R44: the statements the subject attached to their fields, with their text; empty when none.
Result<Json> StatementsJson(SubjectService& subjects, const SchoolId& school,
                            const std::string& subject) {
  Json out = Json::array();
  if (subject.empty()) return out;
  auto all = subjects.Statements(school, SubjectId(subject));
  if (!all.ok()) return all.error();
  for (const auto& st : *all) {
    out.push_back({{"field", st.field}, {"text", st.text}, {"at", FormatTimestamp(st.at)}});
  }
  return out;
}

// Records read and written per page by the streamed package.
constexpr size_t kPackagePage = 256;
// The streamed package hands its output over in pieces of about this size.
constexpr size_t kPackageChunk = size_t{64} * 1024;


}  // namespace

Result<std::string> RequestService::BuildPackage(SchoolRuntime& school, const RequestInfo& r) {
  auto cp = school.policy();
  Json data = Json::array();
  PackageFacts facts;
  const Timestamp now = deps_.clock.Now();
  auto marks = HeldMarksOf(deps_.store, school, r.subject, now);
  if (!marks.ok()) return marks.error();
  if (!r.subject.empty()) {
    auto records = subjects_.OpenAll(school.id(), SubjectId(r.subject));
    if (!records.ok()) return records.error();
    for (const auto& rec : *records) {
      data.push_back(PackageItem(rec, *marks));
      AddFacts(*cp, rec.row, facts);
    }
  }
  auto package =
      PackageJson(deps_.store, disclosures_, school, r, facts, *marks, std::move(data), now);
  if (!package.ok()) return package.error();
  auto statements = StatementsJson(subjects_, school.id(), r.subject);
  if (!statements.ok()) return statements.error();
  if (!statements->empty()) (*package)["statements"] = std::move(*statements);
  return Dump(*package);
}

// The streamed package: the summary of the records (their categories, purposes and sources, read
// without opening a value) is known before the first byte; the records themselves are opened and
// written a page at a time. The bytes are those of BuildPackage: the object's members are written
// one by one in the order nlohmann-json writes them, with "data" spliced in as it is read.
class RequestService::PackageWriter {
 public:
  PackageWriter(RequestService& service, SchoolRuntime* school, RequestInfo r, PackageFacts facts,
                HeldMarks marks, Timestamp generated_at)
      : service_(service),
        school_(school),
        r_(std::move(r)),
        facts_(std::move(facts)),
        marks_(std::move(marks)),
        generated_at_(generated_at) {}

  Status Write(const std::function<bool(std::string)>& out) {
    const bool with_data = !r_.subject.empty() && facts_.records > 0;
    auto built = PackageJson(service_.deps_.store, service_.disclosures_, *school_, r_, facts_,
                             marks_, with_data ? Json::array({nullptr}) : Json::array(),
                             generated_at_);
    if (!built.ok()) return built.error();
    auto statements = StatementsJson(service_.subjects_, school_->id(), r_.subject);
    if (!statements.ok()) return statements.error();
    if (!statements->empty()) (*built)["statements"] = std::move(*statements);
    const Json package = std::move(*built);
    std::string buf;
    auto flush = [&](bool always) {
      if (buf.empty() || (!always && buf.size() < kPackageChunk)) return true;
      bool ok = out(std::move(buf));
      buf.clear();
      return ok;
    };
    auto gone = [] { return Error::Unavailable("the client went away"); };
    buf.push_back('{');
    bool first = true;
    for (const auto& [key, value] : package.items()) {
      if (!first) buf.push_back(',');
      first = false;
      buf += Dump(Json(key));
      buf.push_back(':');
      if (key != "data" || !with_data) {
        buf += Dump(value);
        continue;
      }
      buf.push_back('[');
      if (!flush(true)) return gone();  // the summary leaves before any record is opened
      if (Status st = WriteData(buf, flush); !st.ok()) return st;
      buf.push_back(']');
    }
    buf.push_back('}');
    if (!flush(true)) return gone();
    return Status::Ok();
  }

 private:
  template <typename Flush>
  Status WriteData(std::string& buf, Flush& flush) {
    auto cp = school_->policy();
    const SubjectId subject(r_.subject);
    std::string after;
    size_t written = 0;
    for (;;) {
      auto page = service_.subjects_.OpenPage(school_->id(), subject, after, kPackagePage);
      if (!page.ok()) return page.error();
      if (page->empty()) break;
      for (const auto& rec : *page) {
        if (written == facts_.records || !CoveredBy(*cp, rec.row, facts_)) return Changed();
        if (written++ > 0) buf.push_back(',');
        buf += Dump(PackageItem(rec, marks_));
        if (!flush(false)) return Error::Unavailable("the client went away");
      }
      after = page->back().row.id.value();
    }
    if (written != facts_.records) return Changed();
    return Status::Ok();
  }

  static Error Changed() {
    return Error::Unavailable(
        "the subject's records changed while the access package was written; ask for it again");
  }

  RequestService& service_;
  SchoolRuntime* school_;  // the service's schools outlive their requests
  RequestInfo r_;
  PackageFacts facts_;
  HeldMarks marks_;
  Timestamp generated_at_;
};

RequestService::PackageStream::PackageStream(std::unique_ptr<PackageWriter> writer)
    : writer_(std::move(writer)) {}
RequestService::PackageStream::PackageStream(PackageStream&&) noexcept = default;
RequestService::PackageStream& RequestService::PackageStream::operator=(PackageStream&&) noexcept =
    default;
RequestService::PackageStream::~PackageStream() = default;

Status RequestService::PackageStream::Write(const std::function<bool(std::string)>& out) {
  return writer_->Write(out);
}

Result<RequestService::PackageStream> RequestService::StartPackage(SchoolRuntime* school,
                                                                   const RequestInfo& r) {
  auto cp = school->policy();
  PackageFacts facts;
  if (!r.subject.empty()) {
    const SubjectId subject(r.subject);
    std::string after;
    for (;;) {
      auto page = deps_.store.GetRecordsPage(school->id(), subject, after, kPackagePage * 4);
      if (!page.ok()) return page.error();
      if (page->empty()) break;
      for (const auto& row : *page) AddFacts(*cp, row, facts);
      after = page->back().id.value();
    }
  }
  const Timestamp now = deps_.clock.Now();
  auto marks = HeldMarksOf(deps_.store, *school, r.subject, now);
  if (!marks.ok()) return marks.error();
  return PackageStream(std::make_unique<PackageWriter>(*this, school, r, std::move(facts),
                                                       std::move(*marks), now));
}


Result<std::string> RequestService::SubjectPackage(const SchoolId& school,
                                                   const SubjectId& subject,
                                                   const std::string& lang) {
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  RequestInfo r;
  r.subject = subject.value();
  r.lang = lang;
  return BuildPackage(**rt, r);
}

Result<RequestService::PackageStream> RequestService::Package(const SchoolId& school,
                                                              const std::string& id,
                                                              const Actor& actor,
                                                              const RequestContext& ctx) {
  auto r = Load(school, id);
  if (!r.ok()) return r.error();
  if (r->identity == "required") {
    return Error::Conflict("identity_unverified",
                           "the requester's identity is not confirmed; nothing is released (R37)");
  }
  auto rt = schools_.Get(school);
  if (!rt.ok()) return rt.error();
  auto package = StartPackage(*rt, *r);
  if (!package.ok()) return package.error();
  AuditEvent a;
  a.actor = actor.AuditName();
  a.role = actor.role;
  a.action = "export";
  if (!r->subject.empty()) {
    auto pseudonym = audit_.Pseudonym(school, SubjectId(r->subject));
    if (pseudonym.ok()) a.subject_ref = *pseudonym;
  }
  a.outcome = "ok";
  a.reason = "access_package";
  a.decision_id = r->id;
  a.request_id = ctx.request_id;
  if (auto st = audit_.Record(school, std::move(a)); !st.ok()) return st.error();
  return package;
}


Result<RequestInfo> RequestService::CompleteWithPackage(SchoolRuntime& rt, RequestInfo r,
                                                        const CompleteRequest& in, const Actor& actor,
                                                        const RequestContext& ctx) {
  const SchoolId& school = rt.id();
  const std::string& right = r.right;
  ports::WriteBatch batch;
  auto package = BuildPackage(rt, r);
  if (!package.ok()) return package.error();
  std::vector<ports::MailAttachment> files = {
      ports::MailAttachment{"dovira-" + r.id + ".json", "application/json", *package}};
  r.decision = in.note;
  if (right == "portability" && !r.destination_url.empty()) {
    // R54: the transfer goes through the outbox, which retries an unreachable destination; the
    // request stays partly done on its pending task, and the subject hears of the outcome
    // (TransferSettled) rather than of a completion that has not happened yet.
    OutMessage m;
    m.request = r.id;
    m.channel = "webhook";
    m.kind = "transfer";
    m.url = r.destination_url;
    m.text = *package;
    auto mid = outbox_.Add(batch, school, m);
    if (!mid.ok()) return mid.error();
    r.tasks.push_back(RequestTask{"recipient:destination", "transmit", "pending", std::nullopt, ""});
    return Close(school, std::move(r), RequestState::kDone, "transfer_queued", "{}", actor, ctx,
                 std::move(batch));
  }
  if (auto st = Notify(batch, school, r, "answer", "", files); !st.ok()) return st.error();
  return Close(school, std::move(r), RequestState::kDone, "answered", "{}", actor, ctx,
               std::move(batch));
}

Status RequestService::TransferSettled(const Outbox::Settled& m, ports::WriteBatch& batch) {
  if (m.kind != "transfer" || m.request.empty()) return Status::Ok();
  std::lock_guard<std::mutex> lock(SchoolMutex(m.school));
  auto loaded = Load(m.school, m.request);
  if (!loaded.ok()) {
    // The request went with its subject's erasure: nothing is left to settle.
    return loaded.error().code == ErrorCode::kNotFound ? Status::Ok() : Status(loaded.error());
  }
  RequestInfo r = std::move(*loaded);
  auto task = std::find_if(r.tasks.begin(), r.tasks.end(), [](const RequestTask& t) {
    return t.target == "recipient:destination";
  });
  if (task == r.tasks.end()) return Status::Ok();
  const bool sent = m.state == "sent";
  // Staff confirmed the part by other means, or an earlier run settled it: the outcome stands.
  if (task->state == "done" || (!sent && r.outcome == "failed_technical")) {
    return sent ? LogTransfer(batch, m.school, r, m.content) : Status::Ok();
  }
  auto rt = schools_.Get(m.school);
  if (!rt.ok()) return rt.error();
  const Timestamp now = deps_.clock.Now();
  const std::string destination = DestinationOrigin(r.destination_url);
  task->at = now;
  if (sent) {
    if (auto st = StageTransferDisclosure(batch, m.school, r, m.content); !st.ok()) return st;
    task->state = "done";
    task->note = "received by " + destination;
    r.outcome = "transferred";
    if (auto st = Notify(batch, m.school, r, "transfer_sent", ""); !st.ok()) return st;
  } else {
    task->state = "failed";
    task->note = destination + " could not be reached; the file was offered to the subject";
    r.outcome = "failed_technical";
    std::string file = m.content;
    if (file.empty()) {
      auto rebuilt = BuildPackage(**rt, r);
      if (!rebuilt.ok()) return rebuilt.error();
      file = std::move(*rebuilt);
    }
    std::vector<ports::MailAttachment> files = {
        ports::MailAttachment{"dovira-" + r.id + ".json", "application/json", std::move(file)}};
    if (auto st = Notify(batch, m.school, r, "transfer_failed", "", files); !st.ok()) return st;
  }
  // The transfer's outcome closes the request: received, or not technically possible and the
  // subject has the file (004 §9.9: "where technically possible").
  const bool rest_done = std::all_of(r.tasks.begin(), r.tasks.end(), [](const RequestTask& t) {
    return t.target == "recipient:destination" || t.state == "done";
  });
  r.state = domain::RequestStateName(rest_done ? RequestState::kDone : RequestState::kPartlyDone);
  r.closed_at = now;
  r.late_by_days = domain::LateByDays((*rt)->policy()->calendar(), r.due_at, now);
  if (auto st = Stage(batch, m.school, r, sent ? "task_done" : "task_failed",
                      Dump({{"target", task->target}, {"outcome", r.outcome}}),
                      Actor::System("outbox"), RequestContext{});
      !st.ok()) {
    return st;
  }
  Status committed = Commit(m.school, r, std::move(batch));
  batch = ports::WriteBatch();  // committed here, with the request (or not at all)
  return committed;
}

Status RequestService::LogTransfer(ports::WriteBatch& batch, const SchoolId& school,
                                   const RequestInfo& r, const std::string& package) {
  if (auto st = StageTransferDisclosure(batch, school, r, package); !st.ok()) return st;
  Status committed = deps_.store.Commit(std::move(batch));
  batch = ports::WriteBatch();
  return committed;
}

Status RequestService::StageTransferDisclosure(ports::WriteBatch& batch, const SchoolId& school,
                                               const RequestInfo& r, const std::string& package) {
  if (r.subject.empty()) return Status::Ok();
  // What went out is what the package held: its records' fields and categories.
  std::set<std::string> fields, categories;
  Json sent = Json::parse(package, nullptr, false);
  if (sent.is_object() && sent.contains("data") && sent["data"].is_array()) {
    for (const auto& item : sent["data"]) {
      if (!item.is_object()) continue;
      fields.insert(item.value("field", ""));
      categories.insert(item.value("category", ""));
    }
  }
  fields.erase("");
  categories.erase("");
  const Timestamp now = deps_.clock.Now();
  ports::DisclosureRow row;
  row.school = school;
  row.id = "dsc_" + deps_.crypto.NewId();
  row.subject = SubjectId(r.subject);
  row.recipient = DestinationHost(r.destination_url);
  row.at = now;
  row.fields.assign(fields.begin(), fields.end());
  row.categories.assign(categories.begin(), categories.end());
  row.purpose = "portability";
  row.basis = "data_subject_request";
  row.safeguard = "none";
  row.actor = Actor::System("outbox").AuditName();
  row.request = r.id;
  row.detail = Dump({{"destination", DestinationOrigin(r.destination_url)},
                     {"right", "portability"},
                     {"chosen_by", "subject"}});
  row.recorded_at = now;
  AuditEvent a;
  a.actor = row.actor;
  a.action = "disclose";
  auto pseudonym = audit_.Pseudonym(school, row.subject);
  if (pseudonym.ok()) a.subject_ref = *pseudonym;
  a.purpose = row.purpose;
  a.fields = JoinIds(row.fields);
  a.outcome = "ok";
  a.reason = "disclosure_logged";
  a.decision_id = row.id;
  a.detail = Dump({{"recipient", row.recipient},
                   {"at", FormatTimestamp(row.at)},
                   {"categories", row.categories},
                   {"basis", row.basis},
                   {"request", r.id}});
  audit_.Add(batch, school, std::move(a));
  batch.disclosures.push_back(std::move(row));
  return Status::Ok();
}

}  // namespace dovira::services
