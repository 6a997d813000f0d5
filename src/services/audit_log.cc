#include "services/audit_log.h"

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
  AuditVerification v;
  auto checkpoints = deps_.store.ListCheckpoints(school);
  if (!checkpoints.ok()) return checkpoints.error();
  std::map<int64_t, const ports::CheckpointRow*> by_seq;
  for (const auto& c : *checkpoints) by_seq[c.seq] = &c;

  // Reading rows from the store and hashing them overlap: this thread reads, a second one checks,
  // in order, chunk by chunk.
  constexpr size_t kChunk = 512;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::vector<ports::AuditRow>> queue;
  bool reading_done = false;
  bool stop = false;  // the checker found a break: the reader may stop
  auto fail = [&](int64_t seq, std::string why) {
    if (v.ok) {
      v.ok = false;
      v.first_broken = seq;
      v.problem = std::move(why);
    }
  };
  int64_t expected = 1;
  std::thread checker([&] {
    std::string prev;
    for (;;) {
      std::vector<ports::AuditRow> chunk;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return !queue.empty() || reading_done; });
        if (queue.empty()) return;
        chunk = std::move(queue.front());
        queue.pop_front();
      }
      cv.notify_all();
      for (const auto& row : chunk) {
        if (row.seq != expected) {
          fail(expected, "entry " + std::to_string(expected) + " is missing");
        } else if (row.prev_hash != prev) {
          fail(row.seq, "its link to the previous entry does not match");
        } else if (!HexEquals(row.hash, deps_.crypto.Hash2(prev, Canonical(row)))) {
          fail(row.seq, "its content does not match its hash (the entry was changed)");
        } else if (auto cp = by_seq.find(row.seq); cp != by_seq.end()) {
          const ports::CheckpointRow& c = *cp->second;
          auto sig = ports::FromHex(c.signature);
          auto pk = ports::FromHex(c.public_key);
          if (c.hash != row.hash || !sig.ok() || !pk.ok() ||
              !deps_.crypto.Verify(*pk, CheckpointMessage(c), *sig)) {
            fail(row.seq, "the signed checkpoint at this entry does not match");
          } else {
            ++v.checkpoints;
          }
        }
        if (!v.ok) {
          std::lock_guard lock(mu);
          stop = true;
          return;
        }
        ++v.entries;
        prev = row.hash;
        ++expected;
      }
    }
  });
  std::vector<ports::AuditRow> chunk;
  chunk.reserve(kChunk);
  auto hand_over = [&]() {
    std::unique_lock lock(mu);
    // Bounded: at most four chunks wait, so memory stays flat for any length of log.
    cv.wait(lock, [&] { return queue.size() < 4 || stop; });
    if (!stop) queue.push_back(std::move(chunk));
    chunk = {};
    chunk.reserve(kChunk);
    cv.notify_all();
    return !stop;
  };
  Status st = deps_.store.ForEachAudit(school, 0, [&](const ports::AuditRow& row) {
    chunk.push_back(row);
    if (chunk.size() < kChunk) return true;
    return hand_over();
  });
  if (!chunk.empty()) hand_over();
  {
    std::lock_guard lock(mu);
    reading_done = true;
  }
  cv.notify_all();
  checker.join();
  if (!st.ok()) return st.error();
  // A checkpoint beyond the last entry means entries were cut off the end.
  if (v.ok && !by_seq.empty() && by_seq.rbegin()->first >= expected) {
    fail(expected, "entries after " + std::to_string(expected - 1) +
                       " were removed (a signed checkpoint covers entry " +
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
  auto last = deps_.store.LastAudit(school);
  if (!last.ok()) return last.error();
  if (!*last) return Status::Ok();
  auto checkpoints = deps_.store.ListCheckpoints(school);
  if (!checkpoints.ok()) return checkpoints.error();
  if (!checkpoints->empty() && checkpoints->back().seq >= (*last)->seq) return Status::Ok();
  auto key = deps_.keys.AuditSigningKey(school);
  if (!key.ok()) return key.error();
  ports::CheckpointRow c;
  c.school = school;
  c.seq = (*last)->seq;
  c.hash = (*last)->hash;
  c.public_key = ports::ToHex(key->public_key);
  c.signature = ports::ToHex(deps_.crypto.Sign(*key, CheckpointMessage(c)));
  c.at = deps_.clock.Now();
  ports::WriteBatch batch;
  batch.checkpoints.push_back(std::move(c));
  return deps_.store.Commit(std::move(batch));
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

Result<std::vector<ports::AuditRow>> AuditLog::ForSubject(const SchoolId& school,
                                                          const SubjectId& subject,
                                                          int64_t after_seq, size_t limit) {
  auto pn = Pseudonym(school, subject);
  if (!pn.ok()) return pn.error();
  return deps_.store.AuditForSubject(school, *pn, after_seq, limit);
}

}  // namespace dovira::services
