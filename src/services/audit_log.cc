#include "services/audit_log.h"

namespace dovira::services {
namespace {

void Put(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
  out += ';';
}

std::string CheckpointMessage(const ports::CheckpointRow& c) {
  return "dovira-audit-checkpoint|" + c.school.value() + "|" + std::to_string(c.seq) + "|" + c.hash;
}

}  // namespace

AuditLog::AuditLog(Deps deps) : deps_(deps) {}

std::string AuditLog::Canonical(const ports::AuditRow& r) {
  std::string out;
  out.reserve(256);
  Put(out, "v1");
  Put(out, r.school.value());
  Put(out, std::to_string(r.seq));
  Put(out, std::to_string(r.at.time_since_epoch().count()));
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

  std::string prev;
  int64_t expected = 1;
  auto fail = [&](int64_t seq, std::string why) {
    if (v.ok) {
      v.ok = false;
      v.first_broken = seq;
      v.problem = std::move(why);
    }
  };
  Status st = deps_.store.ForEachAudit(school, 0, [&](const ports::AuditRow& row) {
    ++v.entries;
    if (row.seq != expected) {
      fail(expected, "entry " + std::to_string(expected) + " is missing");
      return false;
    }
    if (row.prev_hash != prev) {
      fail(row.seq, "its link to the previous entry does not match");
      return false;
    }
    std::string hash = ports::ToHex(deps_.crypto.Hash2(prev, Canonical(row)));
    if (hash != row.hash) {
      fail(row.seq, "its content does not match its hash (the entry was changed)");
      return false;
    }
    auto cp = by_seq.find(row.seq);
    if (cp != by_seq.end()) {
      const ports::CheckpointRow& c = *cp->second;
      auto sig = ports::FromHex(c.signature);
      auto pk = ports::FromHex(c.public_key);
      if (c.hash != row.hash || !sig.ok() || !pk.ok() ||
          !deps_.crypto.Verify(*pk, CheckpointMessage(c), *sig)) {
        fail(row.seq, "the signed checkpoint at this entry does not match");
        return false;
      }
      ++v.checkpoints;
    }
    prev = row.hash;
    ++expected;
    return true;
  });
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
