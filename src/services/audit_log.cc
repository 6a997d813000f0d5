#include "services/audit_log.h"

#include <algorithm>

#include <charconv>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace dovira::services {
namespace {

void Put(std::string& out, std::string_view field) {
  char len[24];
  auto [end, ec] = std::to_chars(len, len + sizeof len, field.size());
  (void)ec;
  out.append(len, end);
  out += ':';
  out += field;
  out += ';';
}

// Whether `hex` (as stored) spells the bytes of `raw`, without building a string.
bool HexEquals(std::string_view hex, std::string_view raw) {
  static const char* kDigits = "0123456789abcdef";
  if (hex.size() != raw.size() * 2) return false;
  for (size_t i = 0; i < raw.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(raw[i]);
    if (hex[2 * i] != kDigits[c >> 4] || hex[2 * i + 1] != kDigits[c & 15]) return false;
  }
  return true;
}

std::string CheckpointMessage(const ports::CheckpointRow& c) {
  return "dovira-audit-checkpoint|" + c.school.value() + "|" + std::to_string(c.seq) + "|" + c.hash;
}

}  // namespace

AuditLog::AuditLog(Deps deps) : deps_(deps) {}

std::string AuditLog::Canonical(const ports::AuditRow& r) {
  std::string out;
  out.reserve(160 + r.school.value().size() + r.actor.size() + r.action.size() +
              r.subject_ref.size() + r.purpose.size() + r.fields.size() + r.reason.size() +
              r.decision_id.size() + r.request_id.size() + r.detail.size() + r.prev_hash.size());
  Put(out, "v1");
  Put(out, r.school.value());
  char num[24];
  auto [seq_end, e1] = std::to_chars(num, num + sizeof num, r.seq);
  (void)e1;
  Put(out, std::string_view(num, static_cast<size_t>(seq_end - num)));
  auto [at_end, e2] = std::to_chars(num, num + sizeof num, r.at.time_since_epoch().count());
  (void)e2;
  Put(out, std::string_view(num, static_cast<size_t>(at_end - num)));
  for (const std::string* f : {&r.actor, &r.role, &r.action, &r.subject_ref, &r.purpose, &r.fields,
                               &r.outcome, &r.reason, &r.decision_id, &r.request_id, &r.detail,
                               &r.prev_hash}) {
    Put(out, *f);
  }
  return out;
}

ports::AuditChainer AuditLog::Chainer(ports::Crypto& crypto) {
  return [&crypto](const std::string& prev_hash, const ports::AuditRow& row) {
    return ports::ToHex(crypto.Hash2(prev_hash, Canonical(row)));
  };
}

Result<std::string> AuditLog::Pseudonym(const SchoolId& school, const SubjectId& subject) {
  auto key = deps_.keys.PseudonymKey(school);
  if (!key.ok()) return key.error();
  return "pn_" + ports::ToHex(deps_.crypto.KeyedHash(*key, subject.value())).substr(0, 32);
}

void AuditLog::Add(ports::WriteBatch& batch, const SchoolId& school, AuditEvent e) const {
  ports::AuditRow row;
  row.school = school;
  row.seq = 0;  // numbered and chained by the store at commit
  row.at = deps_.clock.Now();
  row.actor = std::move(e.actor);
  row.role = std::move(e.role);
  row.action = std::move(e.action);
  row.subject_ref = std::move(e.subject_ref);
  row.purpose = std::move(e.purpose);
  row.fields = std::move(e.fields);
  row.outcome = std::move(e.outcome);
  row.reason = std::move(e.reason);
  row.decision_id = std::move(e.decision_id);
  row.request_id = std::move(e.request_id);
  row.detail = e.detail.empty() ? "{}" : std::move(e.detail);
  batch.audit.push_back(std::move(row));
}

Status AuditLog::Record(const SchoolId& school, AuditEvent event) {
  ports::WriteBatch batch;
  Add(batch, school, std::move(event));
  return deps_.store.Commit(std::move(batch));
}

Result<AuditVerification> AuditLog::Verify(const SchoolId& school) {
  // The anchor first: it names only entries committed before it was written (see CompareTail).
  auto anchor = deps_.store.GetAuditAnchor(school);
  if (!anchor.ok()) return anchor.error();
  auto checkpoints = deps_.store.ListCheckpoints(school);
  if (!checkpoints.ok()) return checkpoints.error();
  std::map<int64_t, const ports::CheckpointRow*> by_seq;
  for (const auto& c : *checkpoints) by_seq[c.seq] = &c;
  auto last = deps_.store.LastAudit(school);
  if (!last.ok()) return last.error();
  const int64_t n = *last ? (*last)->seq : 0;

  // Every entry stores its predecessor's hash, so each entry's own hash can be checked anywhere;
  // the log is cut into segments checked in parallel (reading and hashing both take time), and
  // only the links across the cuts are checked at the end.
  struct Segment {
    int64_t from = 1, to = 0;  // seqs [from, to]
    int64_t entries = 0, checkpoints = 0;
    std::optional<int64_t> broken;
    std::string problem;
    std::string first_prev;  // prev_hash of the entry at `from`
    std::string last_hash;   // hash of the entry at `to`
    Status status;
  };
  const int64_t parts = n >= 8192 ? std::max(1u, std::min(4u, std::thread::hardware_concurrency())) : 1;
  std::vector<Segment> segments(static_cast<size_t>(parts));
  for (int64_t i = 0; i < parts; ++i) {
    segments[static_cast<size_t>(i)].from = 1 + n * i / parts;
    segments[static_cast<size_t>(i)].to = n * (i + 1) / parts;
  }
  auto check = [&](Segment& seg) {
    int64_t expected = seg.from;
    std::string prev;
    auto fail = [&](int64_t seq, std::string why) {
      seg.broken = seq;
      seg.problem = std::move(why);
      return false;
    };
    seg.status = deps_.store.ForEachAudit(school, seg.from, [&](const ports::AuditRow& row) {
      if (row.seq > seg.to) return false;
      if (row.seq != expected) return fail(expected, "entry " + std::to_string(expected) + " is missing");
      if (row.seq == seg.from) {
        seg.first_prev = row.prev_hash;
      } else if (row.prev_hash != prev) {
        return fail(row.seq, "its link to the previous entry does not match");
      }
      if (!HexEquals(row.hash, deps_.crypto.Hash2(row.prev_hash, Canonical(row)))) {
        return fail(row.seq, "its content does not match its hash (the entry was changed)");
      }
      if (auto cp = by_seq.find(row.seq); cp != by_seq.end()) {
        const ports::CheckpointRow& c = *cp->second;
        auto sig = ports::FromHex(c.signature);
        auto pk = ports::FromHex(c.public_key);
        if (c.hash != row.hash || !sig.ok() || !pk.ok() ||
            !deps_.crypto.Verify(*pk, CheckpointMessage(c), *sig)) {
          return fail(row.seq, "the signed checkpoint at this entry does not match");
        }
        ++seg.checkpoints;
      }
      ++seg.entries;
      prev = row.hash;
      ++expected;
      return true;
    });
    seg.last_hash = prev;
    if (!seg.broken && seg.status.ok() && expected != seg.to + 1) {
      fail(expected, "entry " + std::to_string(expected) + " is missing");
    }
  };
  std::vector<std::thread> threads;
  for (size_t i = 1; i < segments.size(); ++i) threads.emplace_back(check, std::ref(segments[i]));
  check(segments[0]);
  for (auto& t : threads) t.join();

  AuditVerification v;
  auto fail = [&](int64_t seq, std::string why) {
    if (v.ok || (v.first_broken && seq < *v.first_broken)) {
      v.ok = false;
      v.first_broken = seq;
      v.problem = std::move(why);
    }
  };
  for (size_t i = 0; i < segments.size(); ++i) {
    const Segment& seg = segments[i];
    if (!seg.status.ok()) return seg.status.error();
    v.entries += seg.entries;
    v.checkpoints += seg.checkpoints;
    if (seg.broken) fail(*seg.broken, seg.problem);
    // The first entry links to nothing; every later segment must link to the one before it.
    // (When the segment before is itself broken, its last hash proves nothing.)
    const bool before_broken = i > 0 && segments[i - 1].broken.has_value();
    const std::string expected_prev = i == 0 ? std::string() : segments[i - 1].last_hash;
    if (seg.to >= seg.from && !before_broken && seg.first_prev != expected_prev) {
      fail(seg.from, "its link to the previous entry does not match");
    }
  }
  // Entries cut off the end together with their checkpoint rows: the anchor still names them.
  auto tail = CompareTail(school, *anchor);
  if (!tail.ok()) return tail.error();
  RememberTail(school, *tail);
  if (!tail->ok()) fail(*tail->first_broken, tail->problem);
  if (!v.ok) v.entries = *v.first_broken - 1;
  // A checkpoint beyond the last entry means entries were cut off the end.
  if (v.ok && !by_seq.empty() && by_seq.rbegin()->first > n) {
    fail(n + 1, "entries after " + std::to_string(n) + " were removed (a signed checkpoint covers entry " +
                    std::to_string(by_seq.rbegin()->first) + ")");
  }
  // The signing key must be the school's own.
  if (v.ok && !checkpoints->empty()) {
    auto key = deps_.keys.AuditSigningKey(school);
    if (key.ok() && checkpoints->back().public_key != ports::ToHex(key->public_key)) {
      fail(checkpoints->back().seq, "a checkpoint was signed with a key that is not the school's");
    }
  }
  return v;
}

Status AuditLog::Checkpoint(const SchoolId& school) {
  auto anchor = deps_.store.GetAuditAnchor(school);
  if (!anchor.ok()) return anchor.error();
  auto last = deps_.store.LastAudit(school);
  if (!last.ok()) return last.error();
  if (!*last) return Status::Ok();
  auto checkpoints = deps_.store.ListCheckpoints(school);
  if (!checkpoints.ok()) return checkpoints.error();
  const int64_t head = (*last)->seq;
  const bool signed_in_data = !checkpoints->empty() && checkpoints->back().seq >= head;
  // (A store written before anchors existed gets its first one here, even when the head did not
  // move since its last checkpoint.)
  const bool anchored = *anchor && (*anchor)->seq >= head;
  if (signed_in_data && anchored) return Status::Ok();
  auto tail = CompareTail(school, *anchor);
  if (!tail.ok()) return tail.error();
  RememberTail(school, *tail);
  auto key = deps_.keys.AuditSigningKey(school);
  if (!key.ok()) return key.error();
  ports::CheckpointRow c;
  c.school = school;
  c.seq = head;
  c.hash = (*last)->hash;
  c.public_key = ports::ToHex(key->public_key);
  c.signature = ports::ToHex(deps_.crypto.Sign(*key, CheckpointMessage(c)));
  c.at = deps_.clock.Now();
  ports::WriteBatch batch;
  if (!signed_in_data) batch.checkpoints.push_back(c);
  // An anchor the data no longer match stays: moving it on would erase the evidence.
  if (tail->ok()) batch.audit_anchors.push_back(std::move(c));
  if (batch.empty()) return Status::Ok();
  return deps_.store.Commit(std::move(batch));
}

Result<AuditTail> AuditLog::CheckTail(const SchoolId& school) {
  auto anchor = deps_.store.GetAuditAnchor(school);
  if (!anchor.ok()) return anchor.error();
  auto tail = CompareTail(school, *anchor);
  if (!tail.ok()) return tail.error();
  RememberTail(school, *tail);
  return tail;
}

Result<AuditTail> AuditLog::CompareTail(const SchoolId& school,
                                        const std::optional<ports::CheckpointRow>& anchor) {
  AuditTail tail;
  if (!anchor) return tail;
  const int64_t seq = anchor->seq;
  const std::string entry = "entry " + std::to_string(seq);
  tail.anchored_seq = seq;
  auto broken = [&](std::string state, int64_t at, std::string problem) {
    tail.state = std::move(state);
    tail.first_broken = at;
    tail.problem = std::move(problem);
    return tail;
  };
  // A row in the vault proves something only when the school's key signed it.
  auto sig = ports::FromHex(anchor->signature);
  auto pk = ports::FromHex(anchor->public_key);
  auto key = deps_.keys.AuditSigningKey(school);
  if (!sig.ok() || !pk.ok() || !deps_.crypto.Verify(*pk, CheckpointMessage(*anchor), *sig) ||
      (key.ok() && anchor->public_key != ports::ToHex(key->public_key))) {
    return broken("tail_changed", seq,
                  "the signed checkpoint kept in the key vault for " + entry +
                      " is not signed by the school's key");
  }
  std::optional<ports::AuditRow> found;
  Status st = deps_.store.ForEachAudit(school, seq, [&](const ports::AuditRow& row) {
    if (row.seq == seq) found = row;
    return false;
  });
  if (!st.ok()) return st.error();
  if (!found) {
    auto last = deps_.store.LastAudit(school);
    if (!last.ok()) return last.error();
    const int64_t n = *last ? (*last)->seq : 0;
    if (n < seq) {
      const std::string missing = n + 1 == seq ? "entry " + std::to_string(seq) + " is"
                                               : "entries " + std::to_string(n + 1) + " to " +
                                                     std::to_string(seq) + " are";
      return broken("tail_missing", n + 1,
                    missing + " missing: the signed checkpoint kept in the key vault covers " +
                        entry + " (entries were removed, or an older data backup was restored)");
    }
    return broken("tail_changed", seq,
                  entry + " is missing: the signed checkpoint kept in the key vault covers it");
  }
  if (found->hash != anchor->hash) {
    return broken("tail_changed", seq,
                  entry + " is not the one the signed checkpoint kept in the key vault covers "
                          "(the log was rewritten)");
  }
  return tail;
}

void AuditLog::RememberTail(const SchoolId& school, const AuditTail& tail) {
  std::lock_guard lock(tails_mu_);
  if (tail.ok()) {
    tails_.erase(school);
  } else {
    tails_[school] = tail.state;
  }
}

std::string AuditLog::TailState() const {
  std::lock_guard lock(tails_mu_);
  return tails_.empty() ? "ok" : tails_.begin()->second;
}

Result<std::vector<ports::AuditRow>> AuditLog::Page(const SchoolId& school, int64_t after_seq,
                                                    size_t limit) {
  std::vector<ports::AuditRow> out;
  if (limit == 0) return out;
  Status st = deps_.store.ForEachAudit(school, after_seq + 1, [&](const ports::AuditRow& row) {
    out.push_back(row);
    return out.size() < limit;
  });
  if (!st.ok()) return st.error();
  return out;
}

Result<std::vector<ports::AuditRow>> AuditLog::PageBackward(const SchoolId& school,
                                                            std::optional<int64_t> before_seq,
                                                            size_t limit) {
  std::vector<ports::AuditRow> out;
  int64_t before = 0;
  if (before_seq) {
    before = *before_seq;
  } else {
    auto last = LastSeq(school);
    if (!last.ok()) return last.error();
    before = *last + 1;
  }
  if (limit == 0 || before <= 1) return out;
  // Sequence numbers are dense, so the page starts `limit` below the cursor; should one ever be
  // missing, the page is short but the next cursor still continues below it.
  const int64_t from = std::max<int64_t>(1, before - static_cast<int64_t>(limit));
  Status st = deps_.store.ForEachAudit(school, from, [&](const ports::AuditRow& row) {
    if (row.seq >= before) return false;
    out.push_back(row);
    return true;
  });
  if (!st.ok()) return st.error();
  std::reverse(out.begin(), out.end());
  return out;
}

Result<int64_t> AuditLog::LastSeq(const SchoolId& school) {
  auto last = deps_.store.LastAudit(school);
  if (!last.ok()) return last.error();
  return *last ? (*last)->seq : 0;
}

Result<std::vector<ports::AuditRow>> AuditLog::ForSubject(const SchoolId& school,
                                                          const SubjectId& subject,
                                                          int64_t after_seq, size_t limit) {
  auto pn = Pseudonym(school, subject);
  if (!pn.ok()) return pn.error();
  return deps_.store.AuditForSubject(school, *pn, after_seq, limit);
}

}  // namespace dovira::services
