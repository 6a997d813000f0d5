// SubjectService::Import: bulk intake of rows from the school's other systems (issue 17). Each row
// goes through the same validation and the same preparation as one intake (PrepareIntake); the
// prepared rows are committed `batch_size` at a time, so that a file of a million rows costs a
// thousand durable commits rather than a million.
#include <algorithm>
#include <future>
#include <memory>
#include <optional>

#include "services/subjects.h"

namespace dovira::services {

Result<ImportReport> SubjectService::Import(const SchoolId& school_id, ImportSource& source,
                                            const ImportOptions& options, const Actor& actor,
                                            const RequestContext& ctx) {
  auto school = schools_.Get(school_id);
  if (!school.ok()) return school.error();
  auto cp = (*school)->policy();
  ImportReport report;
  report.id = deps_.crypto.NewId();
  const size_t batch_size = std::max<size_t>(1, options.batch_size);

  ports::WriteBatch batch;
  std::vector<PreparedIntake> pending;
  size_t first_pending_line = 0;
  std::string refused_lines;  // the first lines refused, for the audit entry
  auto refuse = [&](size_t line, Error error) {
    if (report.refused_count < 20) {
      refused_lines += (refused_lines.empty() ? "" : ",") + std::to_string(line);
    }
    ++report.refused_count;
    if (report.refused.size() < ImportReport::kMaxListed) {
      report.refused.push_back(ImportRefusal{line, std::move(error)});
    }
  };
  // One batch is committed while the next is prepared: the writer and the sealing of the next
  // rows use both cores. A batch's subjects reach the gate once it has committed.
  struct InFlight {
    std::future<Status> done;
    std::vector<PreparedIntake> prepared;
    size_t first_line = 0;
  };
  std::optional<InFlight> in_flight;
  auto settle = [&]() -> bool {
    if (!in_flight) return true;
    Status st = in_flight->done.get();
    if (!st.ok()) {
      report.stopped = st.error();
      report.stopped_at_line = in_flight->first_line;
      in_flight.reset();
      return false;
    }
    for (const auto& p : in_flight->prepared) {
      Admit(school_id, **school, p);
      if (options.list_stored) report.stored.emplace_back(p.line, p.receipt.subject);
    }
    report.imported += in_flight->prepared.size();
    in_flight.reset();
    return true;
  };
  auto flush = [&]() -> bool {
    if (pending.empty()) return true;
    if (!settle()) return false;
    auto promise = std::make_shared<std::promise<Status>>();
    in_flight = InFlight{promise->get_future(), std::move(pending), first_pending_line};
    pending.clear();
    deps_.store.Submit(std::move(batch),
                       [promise](Status st) { promise->set_value(std::move(st)); });
    batch = ports::WriteBatch{};
    return true;
  };

  ImportRow row;
  while (source.Next(row)) {
    ++report.rows;
    if (row.unreadable) {
      refuse(row.line, std::move(*row.unreadable));
      continue;
    }
    domain::Submission& sub = row.submission;
    if (sub.subject_kind.empty() && sub.form.empty()) sub.subject_kind = options.kind;
    if (sub.channel.empty() && sub.form.empty()) sub.channel = options.channel;
    if (sub.source.empty()) sub.source = options.source.empty() ? "subject" : options.source;
    auto valid = domain::ValidateSubmission(*cp, sub, deps_.clock.Now());
    if (!valid.ok()) {
      refuse(row.line, valid.error());
      continue;
    }
    const std::string provenance = ",\"import\":" + JsonQuote(report.id) +
                                   ",\"line\":" + std::to_string(row.line);
    auto prepared =
        PrepareIntake(school_id, **school, *cp, sub, *valid, actor, ctx, provenance, batch);
    if (!prepared.ok()) {
      if (prepared.error().code == ErrorCode::kRefused) {
        refuse(row.line, prepared.error());
        continue;
      }
      // The batch in flight may still commit: it is counted (or names the earlier line).
      Error error = prepared.error();
      if (!settle()) break;
      report.stopped = std::move(error);
      report.stopped_at_line = pending.empty() ? row.line : first_pending_line;
      pending.clear();
      break;
    }
    if (pending.empty()) first_pending_line = row.line;
    if (pending.empty() && batch.records.capacity() < batch_size * batch.records.size()) {
      // Room for the batch's records at once, by the first row's count: growing a vector of
      // tens of thousands of rows step by step moved each of them several times.
      batch.records.reserve(batch_size * batch.records.size() + batch.records.size());
    }
    prepared->line = row.line;
    pending.push_back(std::move(*prepared));
    if (pending.size() >= batch_size && !flush()) break;
  }
  if (!report.stopped && flush()) settle();

  AuditEvent e;
  e.actor = actor.AuditName();
  e.role = actor.role;
  e.action = "subject.import";
  e.outcome = report.stopped ? "error" : "ok";
  if (report.stopped) e.reason = report.stopped->ReasonOrCode();
  e.request_id = ctx.request_id;
  e.detail = "{\"import\":" + JsonQuote(report.id) + ",\"from\":" + JsonQuote(options.label) +
             ",\"rows\":" + std::to_string(report.rows) +
             ",\"imported\":" + std::to_string(report.imported) +
             ",\"refused\":" + std::to_string(report.refused_count) + ",\"refused_lines\":[" +
             refused_lines + "]}";
  Status recorded = audit_.Record(school_id, std::move(e));
  if (!recorded.ok() && !report.stopped) {
    report.stopped = recorded.error();
    report.stopped_at_line = 0;
  }
  return report;
}

}  // namespace dovira::services
