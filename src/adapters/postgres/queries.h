// Every SQL statement the PostgreSQL adapter runs, in one place (the schema itself is in
// migrations/). Statements are prepared per connection on first use, keyed by the address of
// these constants. They are the SQLite adapter's (src/adapters/sqlite/queries.h) translated:
// $n parameters, no INDEXED BY (the planner has statistics), ON CONFLICT DO NOTHING for INSERT OR
// IGNORE. A parameter compared with '' or tested for NULL carries a cast, since the server infers
// parameter types from the statement.
//
// Column lists: each row type is always selected with the same columns in the same order;
// postgres_store.cc reads rows by those positions.
//
// Thread-safety: constants.
#pragma once

namespace dovira::postgres::sql {

// --- Transactions and migrations -----------------------------------------------------------------

inline constexpr char kBegin[] = "BEGIN";
inline constexpr char kCommit[] = "COMMIT";
inline constexpr char kRollback[] = "ROLLBACK";
// Reads' audit entries need only survive a crash of Dovira (WriteBatch::power_safe false).
inline constexpr char kCommitWithoutWaitingForFlush[] = "SET LOCAL synchronous_commit = off";

// The check that the key vault and the data are different databases (postgres_store.cc).
inline constexpr char kBackendPid[] = "SELECT pg_backend_pid()";
inline constexpr char kHoldProbe[] = "SELECT pg_advisory_lock(20017, $1::integer)";
inline constexpr char kTryProbe[] = "SELECT pg_try_advisory_lock(20017, $1::integer)";
inline constexpr char kReleaseProbe[] = "SELECT pg_advisory_unlock(20017, $1::integer)";

inline constexpr char kLockMigrations[] =
    "SELECT pg_advisory_xact_lock(hashtext('dovira-migrations:' || current_schema()))";
inline constexpr char kCreateSchemaMigrations[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER NOT NULL PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " applied_at BIGINT NOT NULL)";
inline constexpr char kSchemaVersion[] = "SELECT coalesce(max(version), 0) FROM schema_migrations";
inline constexpr char kRecordMigration[] =
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)";

// --- Key vault -----------------------------------------------------------------------------------

// kSubjectKeyColumns: school_id, subject_id, kek_id, wrapped_key, created_at
inline constexpr char kUpsertSubjectKey[] =
    "INSERT INTO subject_keys (school_id, subject_id, kek_id, wrapped_key, created_at)"
    " VALUES ($1, $2, $3, $4, $5)"
    " ON CONFLICT (school_id, subject_id) DO UPDATE SET"
    " kek_id = excluded.kek_id, wrapped_key = excluded.wrapped_key,"
    " created_at = excluded.created_at";
inline constexpr char kDeleteSubjectKey[] =
    "DELETE FROM subject_keys WHERE school_id = $1 AND subject_id = $2";
// A serving process's hold on the schema (PostgresOptions::exclusive_for), for its session.
inline constexpr char kTryLockSchema[] =
    "SELECT pg_try_advisory_lock(hashtext('dovira-serve:' || current_schema()))";
// The jobs lease (Store::HoldJobsLease): a session lock, held by a connection of its own.
inline constexpr char kTryLockJobs[] =
    "SELECT pg_try_advisory_lock(hashtext('dovira-jobs:' || current_schema()))";
inline constexpr char kPing[] = "SELECT 1";
inline constexpr char kTryLockSchemaShared[] =
    "SELECT pg_try_advisory_lock_shared(hashtext('dovira-serve:' || current_schema()))";
// After a destroyed key's commit (PostgresStore's writer, outside any transaction).
inline constexpr char kVacuumSubjectKeys[] = "VACUUM subject_keys";
inline constexpr char kGetSubjectKey[] =
    "SELECT school_id, subject_id, kek_id, wrapped_key, created_at FROM subject_keys"
    " WHERE school_id = $1 AND subject_id = $2";
inline constexpr char kForEachSubjectKey[] =
    "SELECT school_id, subject_id, kek_id, wrapped_key, created_at FROM subject_keys"
    " WHERE school_id = $1 ORDER BY subject_id";

inline constexpr char kInsertTombstone[] =
    "INSERT INTO tombstones (school_id, subject_id, pseudonym, ground, request_id, at)"
    " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (school_id, subject_id) DO NOTHING";
inline constexpr char kListTombstones[] =
    "SELECT school_id, subject_id, pseudonym, ground, request_id, at FROM tombstones"
    " WHERE school_id = $1 ORDER BY at, subject_id";
inline constexpr char kAllTombstones[] = "SELECT school_id, subject_id FROM tombstones";

// kCheckpointColumns: school_id, seq, hash, signature, public_key, at. A later seq replaces the
// school's anchor; an earlier or equal one leaves it as it is.
inline constexpr char kUpsertAuditAnchor[] =
    "INSERT INTO audit_anchors (school_id, seq, hash, signature, public_key, at)"
    " VALUES ($1, $2, $3, $4, $5, $6)"
    " ON CONFLICT (school_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash,"
    " signature = excluded.signature, public_key = excluded.public_key, at = excluded.at"
    " WHERE excluded.seq > audit_anchors.seq";
inline constexpr char kGetAuditAnchor[] =
    "SELECT school_id, seq, hash, signature, public_key, at FROM audit_anchors"
    " WHERE school_id = $1";

// --- Schools and policy versions -----------------------------------------------------------------

// kSchoolColumns: school_id, name, active_policy_version, created_at
inline constexpr char kUpsertSchool[] =
    "INSERT INTO schools (school_id, name, active_policy_version, created_at)"
    " VALUES ($1, $2, $3, $4)"
    " ON CONFLICT (school_id) DO UPDATE SET"
    " name = excluded.name, active_policy_version = excluded.active_policy_version,"
    " created_at = excluded.created_at";
inline constexpr char kGetSchool[] =
    "SELECT school_id, name, active_policy_version, created_at FROM schools WHERE school_id = $1";
inline constexpr char kListSchools[] =
    "SELECT school_id, name, active_policy_version, created_at FROM schools ORDER BY school_id";

// kPolicyVersionColumns: school_id, version_id, text, sha256, effective_date, published_at
inline constexpr char kInsertPolicyVersion[] =
    "INSERT INTO policy_versions"
    " (school_id, version_id, text, sha256, effective_date, published_at)"
    " VALUES ($1, $2, $3, $4, $5, $6)";
inline constexpr char kListPolicyVersions[] =
    "SELECT school_id, version_id, text, sha256, effective_date, published_at"
    " FROM policy_versions WHERE school_id = $1 ORDER BY published_at, version_id";

// --- Subjects ------------------------------------------------------------------------------------

#define DOVIRA_SUBJECT_COLUMNS                                                             \
  " school_id, subject_id, kind, pseudonym, policy_version, channel, form, source, state," \
  " guardian_id, sealed_profile, created_at, updated_at"
// Reads of subjects: the written columns, then gate_version (written only by kBumpGateVersion).
#define DOVIRA_SUBJECT_READ DOVIRA_SUBJECT_COLUMNS ", gate_version"
inline constexpr char kUpsertSubject[] =
    "INSERT INTO subjects (" DOVIRA_SUBJECT_COLUMNS
    ")"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    " ON CONFLICT (school_id, subject_id) DO UPDATE SET"
    " kind = excluded.kind, pseudonym = excluded.pseudonym,"
    " policy_version = excluded.policy_version, channel = excluded.channel,"
    " form = excluded.form, source = excluded.source, state = excluded.state,"
    " guardian_id = excluded.guardian_id, sealed_profile = excluded.sealed_profile,"
    " created_at = excluded.created_at, updated_at = excluded.updated_at";
inline constexpr char kGetSubject[] =
    "SELECT" DOVIRA_SUBJECT_READ " FROM subjects WHERE school_id = $1 AND subject_id = $2";
inline constexpr char kGetGateVersion[] =
    "SELECT gate_version FROM subjects WHERE school_id = $1 AND subject_id = $2";
inline constexpr char kBumpGateVersion[] =
    "UPDATE subjects SET gate_version = gate_version + 1 WHERE school_id = $1 AND subject_id = $2";
inline constexpr char kSubjectExists[] =
    "SELECT 1 FROM subjects WHERE school_id = $1 AND subject_id = $2";
inline constexpr char kForEachSubject[] =
    "SELECT" DOVIRA_SUBJECT_READ " FROM subjects WHERE school_id = $1 ORDER BY subject_id";
inline constexpr char kListSubjects[] =
    "SELECT" DOVIRA_SUBJECT_READ
    " FROM subjects"
    " WHERE school_id = $1 AND subject_id > $2 ORDER BY subject_id LIMIT $3";
#undef DOVIRA_SUBJECT_READ
#undef DOVIRA_SUBJECT_COLUMNS

// --- Records -------------------------------------------------------------------------------------

#define DOVIRA_RECORD_COLUMNS                                                                 \
  " school_id, record_id, subject_id, store, field, category, sealed_value, source, channel," \
  " form, policy_version, collected_at, updated_at"
inline constexpr char kUpsertRecord[] =
    "INSERT INTO records (" DOVIRA_RECORD_COLUMNS
    ")"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    " ON CONFLICT (school_id, record_id) DO UPDATE SET"
    " subject_id = excluded.subject_id, store = excluded.store, field = excluded.field,"
    " category = excluded.category, sealed_value = excluded.sealed_value,"
    " source = excluded.source, channel = excluded.channel, form = excluded.form,"
    " policy_version = excluded.policy_version, collected_at = excluded.collected_at,"
    " updated_at = excluded.updated_at";
inline constexpr char kDeleteRecord[] =
    "DELETE FROM records WHERE school_id = $1 AND record_id = $2";
inline constexpr char kGetRecords[] =
    "SELECT" DOVIRA_RECORD_COLUMNS
    " FROM records"
    " WHERE school_id = $1 AND subject_id = $2 ORDER BY record_id";
inline constexpr char kGetRecordsPage[] =
    "SELECT" DOVIRA_RECORD_COLUMNS
    " FROM records"
    " WHERE school_id = $1 AND subject_id = $2 AND record_id > $3 ORDER BY record_id LIMIT $4";
inline constexpr char kGetStoreRecords[] =
    "SELECT" DOVIRA_RECORD_COLUMNS
    " FROM records"
    " WHERE school_id = $1 AND subject_id = $2 AND store = $3 ORDER BY record_id";
#undef DOVIRA_RECORD_COLUMNS

// --- Erasure of a subject (all with parameters school_id, subject_id) ----------------------------
// Run in this order inside the batch's transaction. The marker row lets the append-only delete
// triggers through (see migrations/data/0001_init.sql) and is removed again before the commit.

inline constexpr char kMarkErasure[] =
    "INSERT INTO subject_erasures (school_id, subject_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";
inline constexpr char kEraseRecords[] =
    "DELETE FROM records WHERE school_id = $1 AND subject_id = $2";
inline constexpr char kEraseConsents[] =
    "DELETE FROM consents WHERE school_id = $1 AND subject_id = $2";
inline constexpr char kEraseLookups[] =
    "DELETE FROM lookups WHERE school_id = $1 AND subject_id = $2";
inline constexpr char kEraseSubjectSessions[] =
    "DELETE FROM subject_sessions WHERE school_id = $1 AND subject_id = $2";
inline constexpr char kEraseSubscriptionConfirmations[] =
    "DELETE FROM subscription_confirmations WHERE school_id = $1 AND subject_id = $2";
inline constexpr char kEraseDisclosures[] =
    "DELETE FROM disclosures WHERE school_id = $1 AND subject_id = $2";
inline constexpr char kEraseLegalHolds[] =
    "DELETE FROM legal_holds WHERE school_id = $1 AND subject_id = $2";
inline constexpr char kEraseGuardianships[] =
    "DELETE FROM guardianships WHERE school_id = $1 AND minor_id = $2";
inline constexpr char kEraseSubjectEvents[] =
    "DELETE FROM subject_events WHERE school_id = $1 AND subject_id = $2";
inline constexpr char kEraseRetentionDue[] =
    "DELETE FROM retention_due WHERE school_id = $1 AND subject_id = $2";
inline constexpr char kEraseAccessGrants[] =
    "DELETE FROM access_grants WHERE school_id = $1 AND subject_id = $2";
inline constexpr char kEraseSubjectAssignments[] =
    "DELETE FROM subject_assignments WHERE school_id = $1 AND subject_id = $2";
inline constexpr char kEraseSubject[] =
    "DELETE FROM subjects WHERE school_id = $1 AND subject_id = $2";
inline constexpr char kUnmarkErasure[] =
    "DELETE FROM subject_erasures WHERE school_id = $1 AND subject_id = $2";

// --- Consents ------------------------------------------------------------------------------------

#define DOVIRA_CONSENT_COLUMNS                                                              \
  " school_id, consent_id, subject_id, consent_type, grants, action, policy_version, text," \
  " text_sha256, lang, channel, form, checkbox, given_by, guardian_id, evidence, at, expires_at"
inline constexpr char kInsertConsent[] =
    "INSERT INTO consents (" DOVIRA_CONSENT_COLUMNS
    ")"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)";
inline constexpr char kGetConsents[] =
    "SELECT" DOVIRA_CONSENT_COLUMNS
    " FROM consents"
    " WHERE school_id = $1 AND subject_id = $2 ORDER BY at, ledger_seq";
inline constexpr char kForEachConsent[] =
    "SELECT" DOVIRA_CONSENT_COLUMNS " FROM consents WHERE school_id = $1 ORDER BY at, ledger_seq";
#undef DOVIRA_CONSENT_COLUMNS

// --- Lookups -------------------------------------------------------------------------------------

inline constexpr char kUpsertLookup[] =
    "INSERT INTO lookups (school_id, field, token, subject_id) VALUES ($1, $2, $3, $4)"
    " ON CONFLICT (school_id, field, token) DO UPDATE SET subject_id = excluded.subject_id";
inline constexpr char kDeleteLookup[] =
    "DELETE FROM lookups WHERE school_id = $1 AND field = $2 AND token = $3 AND subject_id = $4";
inline constexpr char kFindLookup[] =
    "SELECT subject_id FROM lookups WHERE school_id = $1 AND field = $2 AND token = $3";
// A partial erasure (R50): the blind-index rows of one field of a subject.
inline constexpr char kDeleteSubjectLookups[] =
    "DELETE FROM lookups WHERE school_id = $1 AND subject_id = $2 AND field = $3";

// --- Audit ---------------------------------------------------------------------------------------

#define DOVIRA_AUDIT_COLUMNS                                                                 \
  " school_id, seq, at, actor, role, action, subject_ref, purpose, fields, outcome, reason," \
  " decision_id, request_id, detail, prev_hash, hash"
inline constexpr char kInsertAudit[] =
    "INSERT INTO audit (" DOVIRA_AUDIT_COLUMNS
    ")"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)";
// The writers of one school's chain take turns until their transactions end (see the header).
inline constexpr char kLockAuditChain[] =
    "SELECT pg_advisory_xact_lock("
    "hashtext('dovira-audit:' || current_schema() || ':' || $1::text))";
inline constexpr char kAuditHead[] =
    "SELECT seq, hash FROM audit WHERE school_id = $1 ORDER BY seq DESC LIMIT 1";
inline constexpr char kLastAudit[] =
    "SELECT" DOVIRA_AUDIT_COLUMNS " FROM audit WHERE school_id = $1 ORDER BY seq DESC LIMIT 1";
inline constexpr char kForEachAudit[] =
    "SELECT" DOVIRA_AUDIT_COLUMNS " FROM audit WHERE school_id = $1 AND seq >= $2 ORDER BY seq";
inline constexpr char kAuditForSubject[] =
    "SELECT" DOVIRA_AUDIT_COLUMNS
    " FROM audit"
    " WHERE school_id = $1 AND subject_ref = $2 AND seq > $3 ORDER BY seq LIMIT $4";
#undef DOVIRA_AUDIT_COLUMNS

inline constexpr char kInsertCheckpoint[] =
    "INSERT INTO audit_checkpoints (school_id, seq, hash, signature, public_key, at)"
    " VALUES ($1, $2, $3, $4, $5, $6)";
inline constexpr char kListCheckpoints[] =
    "SELECT school_id, seq, hash, signature, public_key, at"
    " FROM audit_checkpoints WHERE school_id = $1 ORDER BY seq";

// --- Staff, sessions, API keys -------------------------------------------------------------------

#define DOVIRA_STAFF_COLUMNS                                                                \
  " school_id, staff_id, name, email, role, password_hash, password_set_at,"                \
  " must_change_password, sealed_totp_secret, totp_enabled, failed_attempts, locked_until," \
  " briefing_completed_at, left_at, created_at, totp_last_step, recovery_codes, organisation"
inline constexpr char kUpsertStaff[] =
    "INSERT INTO staff (" DOVIRA_STAFF_COLUMNS
    ")"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
    " ON CONFLICT (school_id, staff_id) DO UPDATE SET"
    " name = excluded.name, email = excluded.email, role = excluded.role,"
    " password_hash = excluded.password_hash, password_set_at = excluded.password_set_at,"
    " must_change_password = excluded.must_change_password,"
    " sealed_totp_secret = excluded.sealed_totp_secret, totp_enabled = excluded.totp_enabled,"
    " failed_attempts = excluded.failed_attempts, locked_until = excluded.locked_until,"
    " briefing_completed_at = excluded.briefing_completed_at, left_at = excluded.left_at,"
    " created_at = excluded.created_at, totp_last_step = excluded.totp_last_step,"
    " recovery_codes = excluded.recovery_codes, organisation = excluded.organisation";
inline constexpr char kGetStaff[] =
    "SELECT" DOVIRA_STAFF_COLUMNS " FROM staff WHERE school_id = $1 AND staff_id = $2";
// Several staff rows may share an address (someone who left and came back); the current one wins:
// not left first, then the newest.
inline constexpr char kFindStaffByEmail[] =
    "SELECT" DOVIRA_STAFF_COLUMNS
    " FROM staff WHERE school_id = $1 AND email = $2"
    " ORDER BY left_at IS NOT NULL, created_at DESC, staff_id LIMIT 1";
inline constexpr char kListStaff[] =
    "SELECT" DOVIRA_STAFF_COLUMNS " FROM staff WHERE school_id = $1 ORDER BY staff_id";
#undef DOVIRA_STAFF_COLUMNS

// kSessionColumns: token_hash, school_id, staff_id, csrf_token, mfa_passed, created_at, expires_at
inline constexpr char kUpsertSession[] =
    "INSERT INTO sessions (token_hash, school_id, staff_id, csrf_token, mfa_passed, created_at,"
    " expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
    " ON CONFLICT (token_hash) DO UPDATE SET"
    " school_id = excluded.school_id, staff_id = excluded.staff_id,"
    " csrf_token = excluded.csrf_token, mfa_passed = excluded.mfa_passed,"
    " created_at = excluded.created_at, expires_at = excluded.expires_at";
inline constexpr char kDeleteSession[] = "DELETE FROM sessions WHERE token_hash = $1";
inline constexpr char kGetSession[] =
    "SELECT token_hash, school_id, staff_id, csrf_token, mfa_passed, created_at, expires_at"
    " FROM sessions WHERE token_hash = $1";

inline constexpr char kUpsertSubjectSession[] =
    "INSERT INTO subject_sessions (token_hash, school_id, subject_id, state, code_hash, attempts,"
    " csrf_token, created_at, expires_at, email_token, acting_for)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    " ON CONFLICT (token_hash) DO UPDATE SET school_id = excluded.school_id,"
    " subject_id = excluded.subject_id, state = excluded.state, code_hash = excluded.code_hash,"
    " attempts = excluded.attempts, csrf_token = excluded.csrf_token,"
    " created_at = excluded.created_at, expires_at = excluded.expires_at,"
    " email_token = excluded.email_token, acting_for = excluded.acting_for";
inline constexpr char kDeleteSubjectSession[] =
    "DELETE FROM subject_sessions WHERE token_hash = $1";
inline constexpr char kGetSubjectSession[] =
    "SELECT token_hash, school_id, subject_id, state, code_hash, attempts, csrf_token, created_at,"
    " expires_at, email_token, acting_for FROM subject_sessions WHERE token_hash = $1";

inline constexpr char kUpsertSubscriptionConfirmation[] =
    "INSERT INTO subscription_confirmations (token_hash, school_id, subject_id, state, consent,"
    " created_at, expires_at, confirmed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    " ON CONFLICT (token_hash) DO UPDATE SET state = excluded.state,"
    " confirmed_at = excluded.confirmed_at";
inline constexpr char kGetSubscriptionConfirmation[] =
    "SELECT token_hash, school_id, subject_id, state, consent, created_at, expires_at,"
    " confirmed_at FROM subscription_confirmations WHERE token_hash = $1";

#define DOVIRA_API_KEY_COLUMNS \
  " school_id, api_key_id, name, key_hash, role, purposes, created_at, revoked_at, created_by"
inline constexpr char kUpsertApiKey[] =
    "INSERT INTO api_keys (" DOVIRA_API_KEY_COLUMNS
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    " ON CONFLICT (school_id, api_key_id) DO UPDATE SET"
    " name = excluded.name, key_hash = excluded.key_hash, role = excluded.role,"
    " purposes = excluded.purposes, created_at = excluded.created_at,"
    " revoked_at = excluded.revoked_at, created_by = excluded.created_by";
inline constexpr char kFindApiKey[] =
    "SELECT" DOVIRA_API_KEY_COLUMNS " FROM api_keys WHERE key_hash = $1";
inline constexpr char kListApiKeys[] =
    "SELECT" DOVIRA_API_KEY_COLUMNS " FROM api_keys WHERE school_id = $1 ORDER BY api_key_id";
#undef DOVIRA_API_KEY_COLUMNS

// --- Requests (R35-R69) --------------------------------------------------------------------------

inline constexpr char kUpsertRequest[] =
    "INSERT INTO requests (school_id, request_id, type, state, subject_id, open, overdue,"
    " assignee, received_at, due_at, updated_at, body, sealed)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    " ON CONFLICT (school_id, request_id) DO UPDATE SET type = excluded.type,"
    " state = excluded.state, subject_id = excluded.subject_id, open = excluded.open,"
    " overdue = excluded.overdue, assignee = excluded.assignee,"
    " received_at = excluded.received_at, due_at = excluded.due_at,"
    " updated_at = excluded.updated_at, body = excluded.body, sealed = excluded.sealed";
#define DOVIRA_REQUEST_COLUMNS                                                      \
  "SELECT school_id, request_id, type, state, subject_id, open, overdue, assignee," \
  " received_at, due_at, updated_at, body, sealed FROM requests"
inline constexpr char kGetRequest[] =
    DOVIRA_REQUEST_COLUMNS " WHERE school_id = $1 AND request_id = $2";
inline constexpr char kForEachRequest[] = DOVIRA_REQUEST_COLUMNS
    " WHERE school_id = $1 AND (open OR NOT $2::boolean)"
    " ORDER BY request_id";
// The queue, by due date. Parameters: school, open_only, overdue_only, type, state, assignee,
// subject, due_before (or NULL), after_due (or NULL: the first page), after_id, limit. An empty
// text matches anything. The cursor is the row value (due_at, request_id) > ($9, $10).
inline constexpr char kListRequests[] = DOVIRA_REQUEST_COLUMNS
    " WHERE school_id = $1 AND (open OR NOT $2::boolean)"
    " AND (overdue OR NOT $3::boolean)"
    " AND ($4::text = '' OR type = $4) AND ($5::text = '' OR state = $5)"
    " AND ($6::text = '' OR assignee = $6) AND ($7::text = '' OR subject_id = $7)"
    " AND ($8::bigint IS NULL OR due_at < $8)"
    " AND ($9::bigint IS NULL OR (due_at, request_id) > ($9, $10::text))"
    " ORDER BY due_at, request_id LIMIT $11";
#undef DOVIRA_REQUEST_COLUMNS

inline constexpr char kInsertRequestEvent[] =
    "INSERT INTO request_events (school_id, request_id, seq, at, actor, kind, body, sealed)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
inline constexpr char kGetRequestEvents[] =
    "SELECT school_id, request_id, seq, at, actor, kind, body, sealed FROM request_events"
    " WHERE school_id = $1 AND request_id = $2 ORDER BY seq";

#define DOVIRA_OUTBOX_COLUMNS                                                       \
  "SELECT school_id, message_id, request_id, channel, state, attempts, created_at," \
  " next_attempt_at, sent_at, last_error, body, sealed FROM outbox"
inline constexpr char kUpsertOutbox[] =
    "INSERT INTO outbox (school_id, message_id, request_id, channel, state, attempts, created_at,"
    " next_attempt_at, sent_at, last_error, body, sealed)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    " ON CONFLICT (school_id, message_id) DO UPDATE SET state = excluded.state,"
    " attempts = excluded.attempts, next_attempt_at = excluded.next_attempt_at,"
    " sent_at = excluded.sent_at, last_error = excluded.last_error, body = excluded.body,"
    " sealed = excluded.sealed";
inline constexpr char kDueOutbox[] = DOVIRA_OUTBOX_COLUMNS
    " WHERE state = 'pending' AND next_attempt_at <= $1"
    " ORDER BY next_attempt_at LIMIT $2";
inline constexpr char kUnsentOutbox[] = DOVIRA_OUTBOX_COLUMNS
    " WHERE state IN ('pending', 'failed') AND school_id = $1"
    " ORDER BY created_at, message_id";
inline constexpr char kRequestOutbox[] = DOVIRA_OUTBOX_COLUMNS
    " WHERE school_id = $1 AND request_id = $2"
    " ORDER BY created_at, message_id";
#undef DOVIRA_OUTBOX_COLUMNS

// --- Cookie consents, visits ---------------------------------------------------------------------

inline constexpr char kInsertCookieConsent[] =
    "INSERT INTO cookie_consents (school_id, consent_id, choice, accepted, rejected,"
    " policy_version, gpc, lang, ip, user_agent_sha256, at, expires_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
inline constexpr char kGetCookieConsent[] =
    "SELECT school_id, consent_id, choice, accepted, rejected, policy_version, gpc, lang, ip,"
    " user_agent_sha256, at, expires_at"
    " FROM cookie_consents WHERE school_id = $1 AND consent_id = $2";

inline constexpr char kInsertVisit[] =
    "INSERT INTO visits (school_id, visit_id, day, hour, network, browser, os, page,"
    " referrer_domain) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
inline constexpr char kForEachVisit[] =
    "SELECT school_id, visit_id, day, hour, network, browser, os, page, referrer_domain"
    " FROM visits WHERE school_id = $1 AND day >= $2 AND day <= $3 ORDER BY day, hour";

// --- Disclosures (append-only) -------------------------------------------------------------------

#define DOVIRA_DISCLOSURE_COLUMNS                                                            \
  "SELECT school_id, disclosure_id, subject_id, recipient, at, fields, categories, purpose," \
  " basis, safeguard, country, actor, request_id, detail, recorded_at FROM disclosures"
inline constexpr char kInsertDisclosure[] =
    "INSERT INTO disclosures (school_id, disclosure_id, subject_id, recipient, at, fields,"
    " categories, purpose, basis, safeguard, country, actor, request_id, detail, recorded_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";
// Parameters: school, subject ("" = every subject), recipient ("" = any), since, before_at,
// before_id, limit.
inline constexpr char kListDisclosures[] = DOVIRA_DISCLOSURE_COLUMNS
    " WHERE school_id = $1 AND ($2::text = '' OR subject_id = $2)"
    " AND ($3::text = '' OR recipient = $3) AND at >= $4"
    " AND (at, disclosure_id) < ($5, $6::text) ORDER BY at DESC, disclosure_id DESC LIMIT $7";
#undef DOVIRA_DISCLOSURE_COLUMNS

inline constexpr char kUpsertRecipientContact[] =
    "INSERT INTO recipient_contacts (school_id, recipient, sealed, updated_at, updated_by)"
    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (school_id, recipient) DO UPDATE SET"
    " sealed = excluded.sealed, updated_at = excluded.updated_at,"
    " updated_by = excluded.updated_by";
inline constexpr char kGetRecipientContact[] =
    "SELECT school_id, recipient, sealed, updated_at, updated_by FROM recipient_contacts"
    " WHERE school_id = $1 AND recipient = $2";
inline constexpr char kListRecipientContacts[] =
    "SELECT school_id, recipient, sealed, updated_at, updated_by FROM recipient_contacts"
    " WHERE school_id = $1 ORDER BY recipient";

// --- Break-glass grants, assignments, review tasks -----------------------------------------------

inline constexpr char kInsertAccessGrant[] =
    "INSERT INTO access_grants (school_id, grant_id, staff_id, subject_id, category, purpose,"
    " reason, granted_by, granted_at, expires_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
inline constexpr char kAccessGrantsEndingAfter[] =
    "SELECT school_id, grant_id, staff_id, subject_id, category, purpose, reason, granted_by,"
    " granted_at, expires_at FROM access_grants"
    " WHERE school_id = $1 AND expires_at > $2 ORDER BY expires_at, grant_id";

inline constexpr char kUpsertSubjectAssignment[] =
    "INSERT INTO subject_assignments (school_id, organisation, subject_id, reference, assigned_by,"
    " assigned_at) VALUES ($1, $2, $3, $4, $5, $6)"
    " ON CONFLICT (school_id, organisation, subject_id)"
    " DO UPDATE SET reference = excluded.reference, assigned_by = excluded.assigned_by,"
    " assigned_at = excluded.assigned_at";
inline constexpr char kDeleteSubjectAssignment[] =
    "DELETE FROM subject_assignments"
    " WHERE school_id = $1 AND organisation = $2 AND subject_id = $3";
inline constexpr char kListSubjectAssignments[] =
    "SELECT school_id, organisation, subject_id, reference, assigned_by, assigned_at"
    " FROM subject_assignments WHERE school_id = $1"
    " ORDER BY organisation, assigned_at, subject_id";

#define DOVIRA_REVIEW_TASK_COLUMNS                                                        \
  " school_id, task_id, reason, law_change, law, due_date, due_at, assignee, created_at," \
  " created_by, done_at, done_by, summary, overdue_at, late_by_days"
inline constexpr char kUpsertReviewTask[] =
    "INSERT INTO review_tasks (" DOVIRA_REVIEW_TASK_COLUMNS
    ")"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
    " ON CONFLICT (school_id, task_id) DO UPDATE SET"
    " reason = excluded.reason, law_change = excluded.law_change, law = excluded.law,"
    " due_date = excluded.due_date, due_at = excluded.due_at, assignee = excluded.assignee,"
    " created_at = excluded.created_at, created_by = excluded.created_by,"
    " done_at = excluded.done_at, done_by = excluded.done_by, summary = excluded.summary,"
    " overdue_at = excluded.overdue_at, late_by_days = excluded.late_by_days";
inline constexpr char kOpenReviewTasks[] =
    "SELECT" DOVIRA_REVIEW_TASK_COLUMNS
    " FROM review_tasks"
    " WHERE school_id = $1 AND done_at IS NULL ORDER BY due_at, task_id LIMIT $2";
inline constexpr char kDoneReviewTasks[] =
    "SELECT" DOVIRA_REVIEW_TASK_COLUMNS
    " FROM review_tasks"
    " WHERE school_id = $1 AND done_at IS NOT NULL ORDER BY done_at DESC, task_id DESC LIMIT $2";
#undef DOVIRA_REVIEW_TASK_COLUMNS

// --- Legal holds ---------------------------------------------------------------------------------

#define DOVIRA_LEGAL_HOLD_COLUMNS                                                            \
  " school_id, hold_id, subject_id, fields, categories, reason, basis, until, state,"        \
  " request_id, notify_subject, created_at, created_by, closed_at, closed_by, close_reason," \
  " settled_at"
inline constexpr char kUpsertLegalHold[] =
    "INSERT INTO legal_holds (" DOVIRA_LEGAL_HOLD_COLUMNS
    ")"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
    " ON CONFLICT (school_id, hold_id) DO UPDATE SET"
    " subject_id = excluded.subject_id, fields = excluded.fields,"
    " categories = excluded.categories, reason = excluded.reason, basis = excluded.basis,"
    " until = excluded.until, state = excluded.state, request_id = excluded.request_id,"
    " notify_subject = excluded.notify_subject, created_at = excluded.created_at,"
    " created_by = excluded.created_by, closed_at = excluded.closed_at,"
    " closed_by = excluded.closed_by, close_reason = excluded.close_reason,"
    " settled_at = excluded.settled_at";
inline constexpr char kListLegalHolds[] =
    "SELECT" DOVIRA_LEGAL_HOLD_COLUMNS
    " FROM legal_holds"
    " WHERE school_id = $1 AND subject_id = $2 ORDER BY created_at, hold_id";
inline constexpr char kGetLegalHold[] =
    "SELECT" DOVIRA_LEGAL_HOLD_COLUMNS " FROM legal_holds WHERE school_id = $1 AND hold_id = $2";
inline constexpr char kDueLegalHolds[] =
    "SELECT" DOVIRA_LEGAL_HOLD_COLUMNS
    " FROM legal_holds"
    " WHERE school_id = $1 AND settled_at IS NULL AND (state <> 'active' OR until < $2)"
    " ORDER BY until, hold_id LIMIT $3";
#undef DOVIRA_LEGAL_HOLD_COLUMNS

// --- Guardianships -------------------------------------------------------------------------------

#define DOVIRA_GUARDIANSHIP_COLUMNS                                                           \
  " school_id, guardianship_id, minor_id, email_token, state, method, verified_at,"           \
  " verified_by, majority_at, reconsent, reconsent_at, decided_at, body, sealed, created_at," \
  " updated_at"
inline constexpr char kUpsertGuardianship[] =
    "INSERT INTO guardianships (" DOVIRA_GUARDIANSHIP_COLUMNS
    ")"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
    " ON CONFLICT (school_id, guardianship_id) DO UPDATE SET minor_id = excluded.minor_id,"
    " email_token = excluded.email_token, state = excluded.state, method = excluded.method,"
    " verified_at = excluded.verified_at, verified_by = excluded.verified_by,"
    " majority_at = excluded.majority_at, reconsent = excluded.reconsent,"
    " reconsent_at = excluded.reconsent_at, decided_at = excluded.decided_at,"
    " body = excluded.body, sealed = excluded.sealed, updated_at = excluded.updated_at";
inline constexpr char kGetGuardianship[] = "SELECT" DOVIRA_GUARDIANSHIP_COLUMNS
                                           " FROM guardianships"
                                           " WHERE school_id = $1 AND guardianship_id = $2";
inline constexpr char kMinorGuardianships[] =
    "SELECT" DOVIRA_GUARDIANSHIP_COLUMNS
    " FROM guardianships"
    " WHERE school_id = $1 AND minor_id = $2 ORDER BY created_at, guardianship_id";
inline constexpr char kGuardianshipsByEmail[] =
    "SELECT" DOVIRA_GUARDIANSHIP_COLUMNS
    " FROM guardianships"
    " WHERE school_id = $1 AND email_token = $2 ORDER BY created_at, guardianship_id";
inline constexpr char kForEachGuardianship[] = "SELECT" DOVIRA_GUARDIANSHIP_COLUMNS
                                               " FROM guardianships WHERE school_id = $1"
                                               " ORDER BY guardianship_id";
inline constexpr char kDueMajorities[] =
    "SELECT" DOVIRA_GUARDIANSHIP_COLUMNS
    " FROM guardianships"
    " WHERE school_id = $1 AND reconsent = '' AND majority_at <= $2"
    " ORDER BY majority_at, guardianship_id LIMIT $3";
#undef DOVIRA_GUARDIANSHIP_COLUMNS

// --- Retention -----------------------------------------------------------------------------------

inline constexpr char kUpsertSubjectEvent[] =
    "INSERT INTO subject_events (school_id, subject_id, kind, at, source, recorded_at)"
    " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (school_id, subject_id, kind) DO UPDATE SET"
    " at = excluded.at, source = excluded.source, recorded_at = excluded.recorded_at";
inline constexpr char kGetSubjectEvents[] =
    "SELECT school_id, subject_id, kind, at, source, recorded_at FROM subject_events"
    " WHERE school_id = $1 AND subject_id = $2 ORDER BY kind";
#define DOVIRA_RETENTION_COLUMNS \
  " school_id, subject_id, purpose, due_date, due_at, trigger, trigger_at, state"
inline constexpr char kUpsertRetentionDue[] =
    "INSERT INTO retention_due (" DOVIRA_RETENTION_COLUMNS
    ")"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    " ON CONFLICT (school_id, subject_id, purpose) DO UPDATE SET due_date = excluded.due_date,"
    " due_at = excluded.due_at, trigger = excluded.trigger, trigger_at = excluded.trigger_at,"
    " state = excluded.state";
inline constexpr char kDeleteRetentionDue[] =
    "DELETE FROM retention_due WHERE school_id = $1 AND subject_id = $2 AND purpose = $3";
inline constexpr char kSubjectRetention[] =
    "SELECT" DOVIRA_RETENTION_COLUMNS
    " FROM retention_due"
    " WHERE school_id = $1 AND subject_id = $2 ORDER BY purpose";
// Parameters: school, through, after_date, after_subject, after_purpose, limit. The cursor is the
// row value (due_date, subject_id, purpose) > ($3, $4, $5); "" sorts before every value.
inline constexpr char kDueRetention[] =
    "SELECT" DOVIRA_RETENTION_COLUMNS
    " FROM retention_due"
    " WHERE school_id = $1 AND state = 'pending' AND due_date <= $2"
    " AND (due_date, subject_id, purpose) > ($3::text, $4::text, $5::text)"
    " ORDER BY due_date, subject_id, purpose LIMIT $6";
inline constexpr char kForEachEndedRetention[] =
    "SELECT" DOVIRA_RETENTION_COLUMNS
    " FROM retention_due"
    " WHERE school_id = $1 AND state = 'ended' ORDER BY subject_id, purpose";
#undef DOVIRA_RETENTION_COLUMNS
inline constexpr char kUpsertRetentionMark[] =
    "INSERT INTO retention_marks (school_id, refreshed_at) VALUES ($1, $2)"
    " ON CONFLICT (school_id) DO UPDATE SET refreshed_at = excluded.refreshed_at";
inline constexpr char kGetRetentionMark[] =
    "SELECT refreshed_at FROM retention_marks WHERE school_id = $1";
// Parameters: school, since, until. Each subject once, by id.
inline constexpr char kSubjectsChangedBetween[] =
    "SELECT subject_id FROM subjects WHERE school_id = $1 AND updated_at > $2 AND updated_at <= $3"
    " UNION"
    " SELECT subject_id FROM consents WHERE school_id = $1 AND at > $2 AND at <= $3"
    " ORDER BY 1";

}  // namespace dovira::postgres::sql
