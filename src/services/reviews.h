// Reviews of the school's policy (R117, 003 §24) and their deadlines (R68).
//
// - A scheduled review: where the policy sets `[policy_change] review_interval`, one review task
//   is always open, due that interval after the last recorded review (in the school's calendar,
//   by the legal counting rule of calendar::DueDate). Where none was ever recorded, the first is
//   due the interval after the policy version in force came into force.
// - A change in the law: recording it is audited ("policy.law_change"); where the policy says
//   `review_on_law_change = true`, a review task is opened at once, due kLawChangeReviewDays
//   calendar days later.
// - Recording a review (what it found) closes every open task, each with how many local days
//   late it was (R68), and schedules the next one from the day of the review. Audited
//   ("policy.review").
// - The deadline job (MarkOverdue) marks each open task past the end of its due day overdue,
//   once, audits it and e-mails the responsible person through the outbox.
//
// Only staff of a privileged role of the school's policy record reviews and law changes.
//
// Thread-safety: safe for concurrent use; the writes of one service are serialised.
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "calendar/term.h"
#include "services/audit_log.h"
#include "services/context.h"
#include "services/outbox.h"
#include "services/schools.h"

namespace dovira::services {

// No policy key sets how soon a review opened by a change in the law is due. Thirty calendar days,
// the term most rights requests run under in the shipped policies (001, 003), is long enough to
// read an amendment and the guidance on it, and short enough that the policy is not applied
// against the law for long.
inline constexpr int kLawChangeReviewDays = 30;
// Limits of what an officer writes (bytes).
inline constexpr size_t kMaxReviewSummary = 4000;
inline constexpr size_t kMaxLawChangeDescription = 2000;
inline constexpr size_t kMaxLawName = 200;
// How many done reviews the list shows, the most recent first.
inline constexpr size_t kRecentReviews = 20;

struct ReviewOverview {
  std::optional<calendar::Term> interval;  // the policy's review_interval, if any
  bool on_law_change = false;              // the policy's review_on_law_change
  std::vector<ports::ReviewTaskRow> open;  // soonest due first
  std::vector<ports::ReviewTaskRow> done;  // at most kRecentReviews, the most recent first
};

struct RecordedReview {
  std::vector<ports::ReviewTaskRow> closed;  // the tasks the review closed
  std::optional<ports::ReviewTaskRow> next;  // the next scheduled review, if the policy sets one
};

struct LawChange {
  std::string description;  // required, at most kMaxLawChangeDescription bytes
  std::string law;          // optional, at most kMaxLawName bytes
};

struct RecordedLawChange {
  std::string id;  // the audit entry's decision id
  Timestamp recorded_at{};
  bool review_required = false;              // the policy's review_on_law_change
  std::optional<ports::ReviewTaskRow> task;  // the review opened, when required
};

class ReviewService {
 public:
  // `outbox` may be null: the overdue alerts are then not written.
  ReviewService(Deps deps, Schools& schools, AuditLog& audit, Outbox* outbox);

  // The policy's review settings, the open tasks and the recent done ones; opens the scheduled
  // task first if the policy sets an interval and none is open. kNotFound "school_unknown";
  // store failures as they come.
  Result<ReviewOverview> List(const SchoolId& school);

  // Records a review done now. Errors: kDenied "role_denied" unless the actor is staff of a
  // privileged role; kRefused naming "summary": "summary_required", "summary_too_long".
  Result<RecordedReview> Record(const SchoolId& school, const std::string& summary,
                                const Actor& actor, const RequestContext& ctx);

  // Records a change in the law, and opens a review where the policy asks for one. Errors:
  // kDenied "role_denied" as Record; kRefused "description_required", "description_too_long"
  // (field "description"), "law_too_long" (field "law").
  Result<RecordedLawChange> RecordLawChange(const SchoolId& school, const LawChange& change,
                                            const Actor& actor, const RequestContext& ctx);

  // The deadline job: opens the scheduled task if missing, then marks every open task past the
  // end of its due day overdue, once each, and alerts the responsible person. Returns how many
  // were marked now.
  Result<int> MarkOverdue(const SchoolId& school, const RequestContext& ctx);

 private:
  // The open tasks, with the scheduled one added (and committed) if the policy sets an interval
  // and none is open. Called under mu_.
  Result<std::vector<ports::ReviewTaskRow>> OpenTasks(const SchoolId& school,
                                                      const domain::CompiledPolicy& cp);
  // Puts the overdue letter about `task` into `batch`, unless no address is known.
  Status StageAlert(ports::WriteBatch& batch, const SchoolId& school,
                    const domain::CompiledPolicy& cp, const ports::ReviewTaskRow& task);

  Deps deps_;
  Schools& schools_;
  AuditLog& audit_;
  Outbox* outbox_;
  std::mutex mu_;
};

}  // namespace dovira::services
