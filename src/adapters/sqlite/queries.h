// Every SQL statement the SQLite adapter runs at run time, in one place (the schema itself is in
// migrations/). Statements are cached per connection by the address of these constants.
//
// Column lists: each row type is always selected with the same columns in the same order (the
// k*Columns comments); sqlite_store.cc reads rows by those positions.
//
// Thread-safety: constants.
#pragma once

namespace dovira::sqlite::sql {

// --- Connection setup ----------------------------------------------------------------------------

inline constexpr char kJournalModeWal[] = "PRAGMA journal_mode = WAL";
// For backup copies: one self-contained file.
inline constexpr char kJournalModeDelete[] = "PRAGMA journal_mode = DELETE";
inline constexpr char kSynchronousFull[] = "PRAGMA synchronous = FULL";
inline constexpr char kSynchronousNormal[] = "PRAGMA synchronous = NORMAL";
inline constexpr char kForeignKeysOn[] = "PRAGMA foreign_keys = ON";
inline constexpr char kSecureDeleteOn[] = "PRAGMA secure_delete = ON";
inline constexpr char kTrustedSchemaOff[] = "PRAGMA trusted_schema = OFF";
// The writers' page cache (KiB; SQLite's default is 2 MiB): a group that touches more pages than
// the cache holds reads them back from the file and spills them into the WAL before it commits.
inline constexpr char kWriterCacheSize[] = "PRAGMA cache_size = -65536";
// Followed by a number of pages.
inline constexpr char kMaxPageCountPrefix[] = "PRAGMA max_page_count = ";

// --- Transactions --------------------------------------------------------------------------------

inline constexpr char kBegin[] = "BEGIN IMMEDIATE";
inline constexpr char kCommit[] = "COMMIT";
inline constexpr char kRollback[] = "ROLLBACK";
inline constexpr char kSavepoint[] = "SAVEPOINT batch";
inline constexpr char kRelease[] = "RELEASE batch";
inline constexpr char kRollbackTo[] = "ROLLBACK TO batch";

// --- Migrations ----------------------------------------------------------------------------------

inline constexpr char kCreateSchemaMigrations[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER NOT NULL PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " applied_at INTEGER NOT NULL"
    ") STRICT";
inline constexpr char kSchemaVersion[] = "SELECT coalesce(max(version), 0) FROM schema_migrations";
inline constexpr char kRecordMigration[] =
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)";

// --- Key vault (keys.db) -------------------------------------------------------------------------

// kSubjectKeyColumns: school_id, subject_id, kek_id, wrapped_key, created_at
inline constexpr char kUpsertSubjectKey[] =
    "INSERT INTO subject_keys (school_id, subject_id, kek_id, wrapped_key, created_at)"
    " VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (school_id, subject_id) DO UPDATE SET"
    " kek_id = excluded.kek_id, wrapped_key = excluded.wrapped_key,"
    " created_at = excluded.created_at";
inline constexpr char kZeroSubjectKey[] =
    "UPDATE subject_keys SET wrapped_key = zeroblob(length(wrapped_key))"
    " WHERE school_id = ? AND subject_id = ?";
inline constexpr char kDeleteSubjectKey[] =
    "DELETE FROM subject_keys WHERE school_id = ? AND subject_id = ?";
inline constexpr char kGetSubjectKey[] =
    "SELECT school_id, subject_id, kek_id, wrapped_key, created_at FROM subject_keys"
    " WHERE school_id = ? AND subject_id = ?";
inline constexpr char kForEachSubjectKey[] =
    "SELECT school_id, subject_id, kek_id, wrapped_key, created_at FROM subject_keys"
    " WHERE school_id = ? ORDER BY subject_id";

// --- Schools and policy versions -----------------------------------------------------------------

// kSchoolColumns: school_id, name, active_policy_version, created_at
inline constexpr char kUpsertSchool[] =
    "INSERT INTO schools (school_id, name, active_policy_version, created_at)"
    " VALUES (?, ?, ?, ?)"
    " ON CONFLICT (school_id) DO UPDATE SET"
    " name = excluded.name, active_policy_version = excluded.active_policy_version,"
    " created_at = excluded.created_at";
inline constexpr char kGetSchool[] =
    "SELECT school_id, name, active_policy_version, created_at FROM schools WHERE school_id = ?";
inline constexpr char kListSchools[] =
    "SELECT school_id, name, active_policy_version, created_at FROM schools ORDER BY school_id";

// kPolicyVersionColumns: school_id, version_id, text, sha256, effective_date, published_at
inline constexpr char kInsertPolicyVersion[] =
    "INSERT INTO policy_versions"
    " (school_id, version_id, text, sha256, effective_date, published_at)"
    " VALUES (?, ?, ?, ?, ?, ?)";
inline constexpr char kListPolicyVersions[] =
    "SELECT school_id, version_id, text, sha256, effective_date, published_at"
    " FROM policy_versions WHERE school_id = ? ORDER BY published_at, version_id";

// --- Subjects ------------------------------------------------------------------------------------

// kSubjectColumns: school_id, subject_id, kind, pseudonym, policy_version, channel, form, source,
// state, guardian_id, sealed_profile, created_at, updated_at; reads add gate_version (written
// only by kBumpGateVersion)
// Upserts run as a plain INSERT and, when the key is taken, an UPDATE with the same parameters
// (RunUpsert in sqlite_store.cc).
inline constexpr char kInsertSubject[] =
    "INSERT INTO subjects (school_id, subject_id, kind, pseudonym, policy_version, channel, form,"
    " source, state, guardian_id, sealed_profile, created_at, updated_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
inline constexpr char kUpdateSubject[] =
    "UPDATE subjects SET kind = ?3, pseudonym = ?4, policy_version = ?5, channel = ?6, form = ?7,"
    " source = ?8, state = ?9, guardian_id = ?10, sealed_profile = ?11, created_at = ?12,"
    " updated_at = ?13 WHERE school_id = ?1 AND subject_id = ?2";
inline constexpr char kGetSubject[] =
    "SELECT school_id, subject_id, kind, pseudonym, policy_version, channel, form, source, state,"
    " guardian_id, sealed_profile, created_at, updated_at, gate_version"
    " FROM subjects WHERE school_id = ? AND subject_id = ?";
inline constexpr char kGetGateVersion[] =
    "SELECT gate_version FROM subjects WHERE school_id = ? AND subject_id = ?";
inline constexpr char kBumpGateVersion[] =
    "UPDATE subjects SET gate_version = gate_version + 1 WHERE school_id = ? AND subject_id = ?";
inline constexpr char kForEachSubject[] =
    "SELECT school_id, subject_id, kind, pseudonym, policy_version, channel, form, source, state,"
    " guardian_id, sealed_profile, created_at, updated_at, gate_version"
    " FROM subjects WHERE school_id = ? ORDER BY subject_id";
inline constexpr char kListSubjects[] =
    "SELECT school_id, subject_id, kind, pseudonym, policy_version, channel, form, source, state,"
    " guardian_id, sealed_profile, created_at, updated_at, gate_version"
    " FROM subjects WHERE school_id = ? AND subject_id > ? ORDER BY subject_id LIMIT ?";

// --- Records -------------------------------------------------------------------------------------

// kRecordColumns: school_id, record_id, subject_id, store, field, category, sealed_value, source,
// channel, form, policy_version, collected_at, updated_at
inline constexpr char kInsertRecord[] =
    "INSERT INTO records (school_id, record_id, subject_id, store, field, category, sealed_value,"
    " source, channel, form, policy_version, collected_at, updated_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
inline constexpr char kUpdateRecord[] =
    "UPDATE records SET subject_id = ?3, store = ?4, field = ?5, category = ?6,"
    " sealed_value = ?7, source = ?8, channel = ?9, form = ?10, policy_version = ?11,"
    " collected_at = ?12, updated_at = ?13 WHERE school_id = ?1 AND record_id = ?2";
inline constexpr char kDeleteRecord[] = "DELETE FROM records WHERE school_id = ? AND record_id = ?";
inline constexpr char kGetRecords[] =
    "SELECT school_id, record_id, subject_id, store, field, category, sealed_value, source,"
    " channel, form, policy_version, collected_at, updated_at"
    " FROM records WHERE school_id = ? AND subject_id = ? ORDER BY record_id";

inline constexpr char kGetRecordsPage[] =
    "SELECT school_id, record_id, subject_id, store, field, category, sealed_value, source,"
    " channel, form, policy_version, collected_at, updated_at"
    " FROM records WHERE school_id = ? AND subject_id = ? AND record_id > ? ORDER BY record_id"
    " LIMIT ?";

inline constexpr char kGetStoreRecords[] =
    "SELECT school_id, record_id, subject_id, store, field, category, sealed_value, source,"
    " channel, form, policy_version, collected_at, updated_at"
    " FROM records WHERE school_id = ? AND subject_id = ? AND store = ? ORDER BY record_id";

// --- Erasure of a subject (all with parameters school_id, subject_id) ----------------------------
// Run in this order inside the batch's savepoint. The marker row lets the consents delete trigger
// through (see migrations/data/0001_init.sql) and is removed again before the savepoint ends.

inline constexpr char kMarkErasure[] =
    "INSERT OR IGNORE INTO subject_erasures (school_id, subject_id) VALUES (?, ?)";
inline constexpr char kEraseRecords[] =
    "DELETE FROM records WHERE school_id = ? AND subject_id = ?";
inline constexpr char kEraseConsents[] =
    "DELETE FROM consents WHERE school_id = ? AND subject_id = ?";
inline constexpr char kEraseLookups[] =
    "DELETE FROM lookups WHERE school_id = ? AND subject_id = ?";
inline constexpr char kEraseSubjectSessions[] =
    "DELETE FROM subject_sessions WHERE school_id = ? AND subject_id = ?";
inline constexpr char kEraseSubscriptionConfirmations[] =
    "DELETE FROM subscription_confirmations WHERE school_id = ? AND subject_id = ?";
inline constexpr char kEraseDisclosures[] =
    "DELETE FROM disclosures WHERE school_id = ? AND subject_id = ?";
inline constexpr char kEraseLegalHolds[] =
    "DELETE FROM legal_holds WHERE school_id = ? AND subject_id = ?";
inline constexpr char kEraseGuardianships[] =
    "DELETE FROM guardianships WHERE school_id = ? AND minor_id = ?";
inline constexpr char kEraseSubjectEvents[] =
    "DELETE FROM subject_events WHERE school_id = ? AND subject_id = ?";
inline constexpr char kEraseRetentionDue[] =
    "DELETE FROM retention_due WHERE school_id = ? AND subject_id = ?";
inline constexpr char kEraseAccessGrants[] =
    "DELETE FROM access_grants WHERE school_id = ? AND subject_id = ?";
inline constexpr char kEraseSubjectAssignments[] =
    "DELETE FROM subject_assignments WHERE school_id = ? AND subject_id = ?";
inline constexpr char kEraseSubject[] =
    "DELETE FROM subjects WHERE school_id = ? AND subject_id = ?";
inline constexpr char kUnmarkErasure[] =
    "DELETE FROM subject_erasures WHERE school_id = ? AND subject_id = ?";

// --- Consents ------------------------------------------------------------------------------------

// kConsentColumns: school_id, consent_id, subject_id, consent_type, grants, action,
// policy_version, text, text_sha256, lang, channel, form, checkbox, given_by, guardian_id,
// evidence, at, expires_at
inline constexpr char kInsertConsent[] =
    "INSERT INTO consents (school_id, consent_id, subject_id, consent_type, grants, action,"
    " policy_version, text, text_sha256, lang, channel, form, checkbox, given_by, guardian_id,"
    " evidence, at, expires_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
inline constexpr char kGetConsents[] =
    "SELECT school_id, consent_id, subject_id, consent_type, grants, action, policy_version,"
    " text, text_sha256, lang, channel, form, checkbox, given_by, guardian_id, evidence, at,"
    " expires_at"
    " FROM consents INDEXED BY consents_by_subject"
    " WHERE school_id = ? AND subject_id = ? ORDER BY at, ledger_seq";
inline constexpr char kForEachConsent[] =
    "SELECT school_id, consent_id, subject_id, consent_type, grants, action, policy_version,"
    " text, text_sha256, lang, channel, form, checkbox, given_by, guardian_id, evidence, at,"
    " expires_at"
    " FROM consents INDEXED BY consents_by_time"
    " WHERE school_id = ? ORDER BY at, ledger_seq";

// --- Lookups -------------------------------------------------------------------------------------

inline constexpr char kInsertLookup[] =
    "INSERT INTO lookups (school_id, field, token, subject_id) VALUES (?1, ?2, ?3, ?4)";
inline constexpr char kUpdateLookup[] =
    "UPDATE lookups SET subject_id = ?4 WHERE school_id = ?1 AND field = ?2 AND token = ?3";
inline constexpr char kDeleteLookup[] =
    "DELETE FROM lookups WHERE school_id = ? AND field = ? AND token = ? AND subject_id = ?";
inline constexpr char kFindLookup[] =
    "SELECT subject_id FROM lookups WHERE school_id = ? AND field = ? AND token = ?";

// --- Audit ---------------------------------------------------------------------------------------

// kAuditColumns: school_id, seq, at, actor, role, action, subject_ref, purpose, fields, outcome,
// reason, decision_id, request_id, detail, prev_hash, hash
inline constexpr char kInsertAudit[] =
    "INSERT INTO audit (school_id, seq, at, actor, role, action, subject_ref, purpose, fields,"
    " outcome, reason, decision_id, request_id, detail, prev_hash, hash)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
// Changes whenever a connection other than the asking one commits (another process included).
inline constexpr char kDataVersion[] = "PRAGMA data_version";
inline constexpr char kAuditHead[] =
    "SELECT seq, hash FROM audit WHERE school_id = ? ORDER BY seq DESC LIMIT 1";
inline constexpr char kLastAudit[] =
    "SELECT school_id, seq, at, actor, role, action, subject_ref, purpose, fields, outcome,"
    " reason, decision_id, request_id, detail, prev_hash, hash"
    " FROM audit WHERE school_id = ? ORDER BY seq DESC LIMIT 1";
inline constexpr char kForEachAudit[] =
    "SELECT school_id, seq, at, actor, role, action, subject_ref, purpose, fields, outcome,"
    " reason, decision_id, request_id, detail, prev_hash, hash"
    " FROM audit WHERE school_id = ? AND seq >= ? ORDER BY seq";
inline constexpr char kAuditForSubject[] =
    "SELECT school_id, seq, at, actor, role, action, subject_ref, purpose, fields, outcome,"
    " reason, decision_id, request_id, detail, prev_hash, hash"
    " FROM audit INDEXED BY audit_by_subject"
    " WHERE school_id = ? AND subject_ref = ? AND seq > ? ORDER BY seq LIMIT ?";

// kCheckpointColumns: school_id, seq, hash, signature, public_key, at
inline constexpr char kInsertCheckpoint[] =
    "INSERT INTO audit_checkpoints (school_id, seq, hash, signature, public_key, at)"
    " VALUES (?, ?, ?, ?, ?, ?)";
inline constexpr char kListCheckpoints[] =
    "SELECT school_id, seq, hash, signature, public_key, at"
    " FROM audit_checkpoints WHERE school_id = ? ORDER BY seq";

// --- Staff, sessions, API keys -------------------------------------------------------------------

// kStaffColumns: school_id, staff_id, name, email, role, password_hash, password_set_at,
// must_change_password, sealed_totp_secret, totp_enabled, failed_attempts, locked_until,
// briefing_completed_at, left_at, created_at, totp_last_step, recovery_codes, organisation
inline constexpr char kUpsertStaff[] =
    "INSERT INTO staff (school_id, staff_id, name, email, role, password_hash, password_set_at,"
    " must_change_password, sealed_totp_secret, totp_enabled, failed_attempts, locked_until,"
    " briefing_completed_at, left_at, created_at, totp_last_step, recovery_codes, organisation)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
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
    "SELECT school_id, staff_id, name, email, role, password_hash, password_set_at,"
    " must_change_password, sealed_totp_secret, totp_enabled, failed_attempts, locked_until,"
    " briefing_completed_at, left_at, created_at, totp_last_step, recovery_codes, organisation"
    " FROM staff WHERE school_id = ? AND staff_id = ?";
// Several staff rows may share an address (someone who left and came back); the current one wins:
// not left first, then the newest.
inline constexpr char kFindStaffByEmail[] =
    "SELECT school_id, staff_id, name, email, role, password_hash, password_set_at,"
    " must_change_password, sealed_totp_secret, totp_enabled, failed_attempts, locked_until,"
    " briefing_completed_at, left_at, created_at, totp_last_step, recovery_codes, organisation"
    " FROM staff INDEXED BY staff_by_email"
    " WHERE school_id = ? AND email = ?"
    " ORDER BY left_at IS NOT NULL, created_at DESC, staff_id LIMIT 1";
inline constexpr char kListStaff[] =
    "SELECT school_id, staff_id, name, email, role, password_hash, password_set_at,"
    " must_change_password, sealed_totp_secret, totp_enabled, failed_attempts, locked_until,"
    " briefing_completed_at, left_at, created_at, totp_last_step, recovery_codes, organisation"
    " FROM staff WHERE school_id = ? ORDER BY staff_id";

// kSessionColumns: token_hash, school_id, staff_id, csrf_token, mfa_passed, created_at, expires_at
inline constexpr char kUpsertSession[] =
    "INSERT INTO sessions (token_hash, school_id, staff_id, csrf_token, mfa_passed, created_at,"
    " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (token_hash) DO UPDATE SET"
    " school_id = excluded.school_id, staff_id = excluded.staff_id,"
    " csrf_token = excluded.csrf_token, mfa_passed = excluded.mfa_passed,"
    " created_at = excluded.created_at, expires_at = excluded.expires_at";
inline constexpr char kDeleteSession[] = "DELETE FROM sessions WHERE token_hash = ?";
inline constexpr char kUpsertSubjectSession[] =
    "INSERT INTO subject_sessions (token_hash, school_id, subject_id, state, code_hash, attempts,"
    " csrf_token, created_at, expires_at, email_token, acting_for)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (token_hash) DO UPDATE SET school_id = excluded.school_id,"
    " subject_id = excluded.subject_id, state = excluded.state, code_hash = excluded.code_hash,"
    " attempts = excluded.attempts, csrf_token = excluded.csrf_token,"
    " created_at = excluded.created_at, expires_at = excluded.expires_at,"
    " email_token = excluded.email_token, acting_for = excluded.acting_for";
inline constexpr char kDeleteSubjectSession[] =
    "DELETE FROM subject_sessions WHERE token_hash = ?";
inline constexpr char kUpsertSubscriptionConfirmation[] =
    "INSERT INTO subscription_confirmations (token_hash, school_id, subject_id, state, consent,"
    " created_at, expires_at, confirmed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (token_hash) DO UPDATE SET state = excluded.state,"
    " confirmed_at = excluded.confirmed_at";
inline constexpr char kGetSubscriptionConfirmation[] =
    "SELECT token_hash, school_id, subject_id, state, consent, created_at, expires_at,"
    " confirmed_at FROM subscription_confirmations WHERE token_hash = ?";
inline constexpr char kGetSubjectSession[] =
    "SELECT token_hash, school_id, subject_id, state, code_hash, attempts, csrf_token, created_at,"
    " expires_at, email_token, acting_for FROM subject_sessions WHERE token_hash = ?";
inline constexpr char kGetSession[] =
    "SELECT token_hash, school_id, staff_id, csrf_token, mfa_passed, created_at, expires_at"
    " FROM sessions WHERE token_hash = ?";

// kApiKeyColumns: school_id, api_key_id, name, key_hash, role, purposes, created_at, revoked_at,
// created_by
inline constexpr char kUpsertApiKey[] =
    "INSERT INTO api_keys (school_id, api_key_id, name, key_hash, role, purposes, created_at,"
    " revoked_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (school_id, api_key_id) DO UPDATE SET"
    " name = excluded.name, key_hash = excluded.key_hash, role = excluded.role,"
    " purposes = excluded.purposes, created_at = excluded.created_at,"
    " revoked_at = excluded.revoked_at, created_by = excluded.created_by";
inline constexpr char kFindApiKey[] =
    "SELECT school_id, api_key_id, name, key_hash, role, purposes, created_at, revoked_at,"
    " created_by FROM api_keys INDEXED BY api_keys_by_hash"
    " WHERE key_hash = ?";
inline constexpr char kListApiKeys[] =
    "SELECT school_id, api_key_id, name, key_hash, role, purposes, created_at, revoked_at,"
    " created_by FROM api_keys WHERE school_id = ? ORDER BY api_key_id";

// --- Requests (R35-R69) ------------------------------------------------------------------------

// kRequestColumns: school_id, request_id, type, state, subject_id, open, overdue, assignee,
// received_at, due_at, updated_at, body, sealed
inline constexpr char kUpsertRequest[] =
    "INSERT INTO requests (school_id, request_id, type, state, subject_id, open, overdue,"
    " assignee, received_at, due_at, updated_at, body, sealed)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (school_id, request_id) DO UPDATE SET type = excluded.type,"
    " state = excluded.state, subject_id = excluded.subject_id, open = excluded.open,"
    " overdue = excluded.overdue, assignee = excluded.assignee,"
    " received_at = excluded.received_at, due_at = excluded.due_at,"
    " updated_at = excluded.updated_at, body = excluded.body, sealed = excluded.sealed";
#define DOVIRA_REQUEST_COLUMNS                                                            \
  "SELECT school_id, request_id, type, state, subject_id, open, overdue, assignee,"       \
  " received_at, due_at, updated_at, body, sealed FROM requests"
inline constexpr char kGetRequest[] =
    DOVIRA_REQUEST_COLUMNS " WHERE school_id = ? AND request_id = ?";
inline constexpr char kForEachRequest[] =
    DOVIRA_REQUEST_COLUMNS " WHERE school_id = ? AND (open = 1 OR ? = 0) ORDER BY request_id";
// The queue, by due date. Parameters: school, overdue_only, type, state, assignee, subject,
// due_before (or NULL), after_due, after_id, limit. An empty text matches anything. The page after
// a keyset cursor has its own query: the cursor is the row value `(due_at, request_id) > (?8,
// ?9)`, which SQLite uses as a range on `requests_by_due` after the (school_id, open) prefix, so
// the page costs the same wherever the cursor is; the first-page queries leave ?8 and ?9 unused.
#define DOVIRA_REQUEST_FILTER                                                                   \
  " AND overdue IN (1, ?2)"                                                                     \
  " AND (?3 = '' OR type = ?3) AND (?4 = '' OR state = ?4) AND (?5 = '' OR assignee = ?5)"      \
  " AND (?6 = '' OR subject_id = ?6) AND (?7 IS NULL OR due_at < ?7)"
#define DOVIRA_REQUEST_AFTER " AND (due_at, request_id) > (?8, ?9)"
#define DOVIRA_REQUEST_ORDER " ORDER BY due_at, request_id LIMIT ?10"
inline constexpr char kListOpenRequests[] =
    DOVIRA_REQUEST_COLUMNS " INDEXED BY requests_by_due WHERE school_id = ?1 AND open = 1"
    DOVIRA_REQUEST_FILTER DOVIRA_REQUEST_ORDER;
inline constexpr char kListOpenRequestsAfter[] =
    DOVIRA_REQUEST_COLUMNS " INDEXED BY requests_by_due WHERE school_id = ?1 AND open = 1"
    DOVIRA_REQUEST_FILTER DOVIRA_REQUEST_AFTER DOVIRA_REQUEST_ORDER;
inline constexpr char kListRequests[] =
    DOVIRA_REQUEST_COLUMNS " WHERE school_id = ?1" DOVIRA_REQUEST_FILTER DOVIRA_REQUEST_ORDER;
inline constexpr char kListRequestsAfter[] =
    DOVIRA_REQUEST_COLUMNS " WHERE school_id = ?1" DOVIRA_REQUEST_FILTER DOVIRA_REQUEST_AFTER
    DOVIRA_REQUEST_ORDER;
#undef DOVIRA_REQUEST_ORDER
#undef DOVIRA_REQUEST_AFTER
#undef DOVIRA_REQUEST_FILTER
#undef DOVIRA_REQUEST_COLUMNS

inline constexpr char kInsertRequestEvent[] =
    "INSERT INTO request_events (school_id, request_id, seq, at, actor, kind, body, sealed)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
inline constexpr char kGetRequestEvents[] =
    "SELECT school_id, request_id, seq, at, actor, kind, body, sealed FROM request_events"
    " WHERE school_id = ? AND request_id = ? ORDER BY seq";

// kOutboxColumns: school_id, message_id, request_id, channel, state, attempts, created_at,
// next_attempt_at, sent_at, last_error, body, sealed
inline constexpr char kUpsertOutbox[] =
    "INSERT INTO outbox (school_id, message_id, request_id, channel, state, attempts, created_at,"
    " next_attempt_at, sent_at, last_error, body, sealed)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (school_id, message_id) DO UPDATE SET state = excluded.state,"
    " attempts = excluded.attempts, next_attempt_at = excluded.next_attempt_at,"
    " sent_at = excluded.sent_at, last_error = excluded.last_error, body = excluded.body,"
    " sealed = excluded.sealed";
inline constexpr char kDueOutbox[] =
    "SELECT school_id, message_id, request_id, channel, state, attempts, created_at,"
    " next_attempt_at, sent_at, last_error, body, sealed FROM outbox INDEXED BY outbox_due"
    " WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?";
inline constexpr char kUnsentOutbox[] =
    "SELECT school_id, message_id, request_id, channel, state, attempts, created_at,"
    " next_attempt_at, sent_at, last_error, body, sealed FROM outbox INDEXED BY outbox_due"
    " WHERE state IN ('pending', 'failed') AND school_id = ? ORDER BY created_at, message_id";
inline constexpr char kRequestOutbox[] =
    "SELECT school_id, message_id, request_id, channel, state, attempts, created_at,"
    " next_attempt_at, sent_at, last_error, body, sealed FROM outbox INDEXED BY outbox_by_request"
    " WHERE school_id = ? AND request_id = ? ORDER BY created_at, message_id";

// --- Tombstones (key vault, B09) -----------------------------------------------------------------

inline constexpr char kInsertTombstone[] =
    "INSERT OR IGNORE INTO tombstones (school_id, subject_id, pseudonym, ground, request_id, at)"
    " VALUES (?, ?, ?, ?, ?, ?)";
inline constexpr char kListTombstones[] =
    "SELECT school_id, subject_id, pseudonym, ground, request_id, at FROM tombstones"
    " WHERE school_id = ? ORDER BY at, subject_id";
inline constexpr char kAllTombstones[] = "SELECT school_id, subject_id FROM tombstones";
inline constexpr char kSubjectExists[] =
    "SELECT 1 FROM subjects WHERE school_id = ? AND subject_id = ?";

// --- Audit anchors (key vault, B01) --------------------------------------------------------------

// kCheckpointColumns, as above. A later seq replaces the school's anchor; an earlier or equal
// one leaves it as it is.
inline constexpr char kUpsertAuditAnchor[] =
    "INSERT INTO audit_anchors (school_id, seq, hash, signature, public_key, at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (school_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash,"
    " signature = excluded.signature, public_key = excluded.public_key, at = excluded.at"
    " WHERE excluded.seq > audit_anchors.seq";
inline constexpr char kGetAuditAnchor[] =
    "SELECT school_id, seq, hash, signature, public_key, at FROM audit_anchors"
    " WHERE school_id = ?";
// --- Cookie consents (append-only; migrations/data/0005_cookie_consents.sql) ---------------------

inline constexpr char kInsertCookieConsent[] =
    "INSERT INTO cookie_consents (school_id, consent_id, choice, accepted, rejected, policy_version,"
    " gpc, lang, ip, user_agent_sha256, at, expires_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
inline constexpr char kGetCookieConsent[] =
    "SELECT school_id, consent_id, choice, accepted, rejected, policy_version, gpc, lang, ip,"
    " user_agent_sha256, at, expires_at"
    " FROM cookie_consents WHERE school_id = ? AND consent_id = ?";

// --- Visit statistics (append-only; migrations/data/0014_visits.sql) ----------------------------

inline constexpr char kInsertVisit[] =
    "INSERT INTO visits (school_id, visit_id, day, hour, network, browser, os, page,"
    " referrer_domain) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
inline constexpr char kForEachVisit[] =
    "SELECT school_id, visit_id, day, hour, network, browser, os, page, referrer_domain"
    " FROM visits INDEXED BY visits_by_day WHERE school_id = ? AND day >= ? AND day <= ?"
    " ORDER BY day, hour";

// --- Disclosures (append-only; migrations/data/0007_disclosures.sql) -----------------------------

// kDisclosureColumns: school_id, disclosure_id, subject_id, recipient, at, fields, categories,
// purpose, basis, safeguard, country, actor, request_id, detail, recorded_at
inline constexpr char kInsertDisclosure[] =
    "INSERT INTO disclosures (school_id, disclosure_id, subject_id, recipient, at, fields,"
    " categories, purpose, basis, safeguard, country, actor, request_id, detail, recorded_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
// Binds: school, subject, recipient ("" = any), recipient, since, before_at, before_id, limit.
inline constexpr char kListSubjectDisclosures[] =
    "SELECT school_id, disclosure_id, subject_id, recipient, at, fields, categories, purpose,"
    " basis, safeguard, country, actor, request_id, detail, recorded_at FROM disclosures"
    " WHERE school_id = ? AND subject_id = ? AND (? = '' OR recipient = ?) AND at >= ?"
    " AND (at, disclosure_id) < (?, ?) ORDER BY at DESC, disclosure_id DESC LIMIT ?";
// Binds: school, recipient ("" = any), recipient, since, before_at, before_id, limit.
inline constexpr char kListDisclosures[] =
    "SELECT school_id, disclosure_id, subject_id, recipient, at, fields, categories, purpose,"
    " basis, safeguard, country, actor, request_id, detail, recorded_at FROM disclosures"
    " WHERE school_id = ? AND (? = '' OR recipient = ?) AND at >= ?"
    " AND (at, disclosure_id) < (?, ?) ORDER BY at DESC, disclosure_id DESC LIMIT ?";

// kRecipientContactColumns: school_id, recipient, sealed, updated_at, updated_by
inline constexpr char kUpsertRecipientContact[] =
    "INSERT INTO recipient_contacts (school_id, recipient, sealed, updated_at, updated_by)"
    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (school_id, recipient) DO UPDATE SET"
    " sealed = excluded.sealed, updated_at = excluded.updated_at,"
    " updated_by = excluded.updated_by";
inline constexpr char kGetRecipientContact[] =
    "SELECT school_id, recipient, sealed, updated_at, updated_by FROM recipient_contacts"
    " WHERE school_id = ? AND recipient = ?";
inline constexpr char kListRecipientContacts[] =
    "SELECT school_id, recipient, sealed, updated_at, updated_by FROM recipient_contacts"
    " WHERE school_id = ? ORDER BY recipient";

// --- Break-glass grants (migrations/data/0015_access_grants.sql) --------------------------------

inline constexpr char kInsertAccessGrant[] =
    "INSERT INTO access_grants (school_id, grant_id, staff_id, subject_id, category, purpose,"
    " reason, granted_by, granted_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
// Binds: school, an instant; the grants that end after it, soonest end first.
inline constexpr char kAccessGrantsEndingAfter[] =
    "SELECT school_id, grant_id, staff_id, subject_id, category, purpose, reason, granted_by,"
    " granted_at, expires_at FROM access_grants INDEXED BY access_grants_by_end"
    " WHERE school_id = ? AND expires_at > ? ORDER BY expires_at, grant_id";

// --- Subjects assigned to outside organisations (migrations/data/0016_organisation_scope.sql) ---

inline constexpr char kUpsertSubjectAssignment[] =
    "INSERT INTO subject_assignments (school_id, organisation, subject_id, reference, assigned_by,"
    " assigned_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (school_id, organisation, subject_id)"
    " DO UPDATE SET reference = excluded.reference, assigned_by = excluded.assigned_by,"
    " assigned_at = excluded.assigned_at";
inline constexpr char kDeleteSubjectAssignment[] =
    "DELETE FROM subject_assignments WHERE school_id = ? AND organisation = ? AND subject_id = ?";
inline constexpr char kListSubjectAssignments[] =
    "SELECT school_id, organisation, subject_id, reference, assigned_by, assigned_at"
    " FROM subject_assignments WHERE school_id = ? ORDER BY organisation, assigned_at, subject_id";
// --- Policy reviews (migrations/data/0017_review_tasks.sql) --------------------------------------

// kReviewTaskColumns: school_id, task_id, reason, law_change, law, due_date, due_at, assignee,
// created_at, created_by, done_at, done_by, summary, overdue_at, late_by_days
#define DOVIRA_REVIEW_TASK_COLUMNS                                                        \
  " school_id, task_id, reason, law_change, law, due_date, due_at, assignee, created_at," \
  " created_by, done_at, done_by, summary, overdue_at, late_by_days"
inline constexpr char kUpsertReviewTask[] =
    "INSERT INTO review_tasks (" DOVIRA_REVIEW_TASK_COLUMNS ")"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (school_id, task_id) DO UPDATE SET"
    " reason = excluded.reason, law_change = excluded.law_change, law = excluded.law,"
    " due_date = excluded.due_date, due_at = excluded.due_at, assignee = excluded.assignee,"
    " created_at = excluded.created_at, created_by = excluded.created_by,"
    " done_at = excluded.done_at, done_by = excluded.done_by, summary = excluded.summary,"
    " overdue_at = excluded.overdue_at, late_by_days = excluded.late_by_days";
// Binds: school, limit.
inline constexpr char kOpenReviewTasks[] =
    "SELECT" DOVIRA_REVIEW_TASK_COLUMNS " FROM review_tasks INDEXED BY review_tasks_open"
    " WHERE school_id = ? AND done_at IS NULL ORDER BY due_at, task_id LIMIT ?";
inline constexpr char kDoneReviewTasks[] =
    "SELECT" DOVIRA_REVIEW_TASK_COLUMNS " FROM review_tasks INDEXED BY review_tasks_done"
    " WHERE school_id = ? AND done_at IS NOT NULL ORDER BY done_at DESC, task_id DESC LIMIT ?";
#undef DOVIRA_REVIEW_TASK_COLUMNS

// --- Legal holds (migrations/data/0008_legal_holds.sql) -------------------------------------------

// kLegalHoldColumns: school_id, hold_id, subject_id, fields, categories, reason, basis, until,
// state, request_id, notify_subject, created_at, created_by, closed_at, closed_by, close_reason,
// settled_at
#define DOVIRA_LEGAL_HOLD_COLUMNS                                                           \
  " school_id, hold_id, subject_id, fields, categories, reason, basis, until, state,"       \
  " request_id, notify_subject, created_at, created_by, closed_at, closed_by, close_reason," \
  " settled_at"
inline constexpr char kUpsertLegalHold[] =
    "INSERT INTO legal_holds (" DOVIRA_LEGAL_HOLD_COLUMNS ")"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (school_id, hold_id) DO UPDATE SET"
    " subject_id = excluded.subject_id, fields = excluded.fields,"
    " categories = excluded.categories, reason = excluded.reason, basis = excluded.basis,"
    " until = excluded.until, state = excluded.state, request_id = excluded.request_id,"
    " notify_subject = excluded.notify_subject, created_at = excluded.created_at,"
    " created_by = excluded.created_by, closed_at = excluded.closed_at,"
    " closed_by = excluded.closed_by, close_reason = excluded.close_reason,"
    " settled_at = excluded.settled_at";
inline constexpr char kListLegalHolds[] =
    "SELECT" DOVIRA_LEGAL_HOLD_COLUMNS " FROM legal_holds"
    " WHERE school_id = ? AND subject_id = ? ORDER BY created_at, hold_id";
inline constexpr char kGetLegalHold[] =
    "SELECT" DOVIRA_LEGAL_HOLD_COLUMNS " FROM legal_holds WHERE school_id = ? AND hold_id = ?";
// Binds: school, today, limit.
inline constexpr char kDueLegalHolds[] =
    "SELECT" DOVIRA_LEGAL_HOLD_COLUMNS " FROM legal_holds"
    " WHERE school_id = ? AND settled_at IS NULL AND (state <> 'active' OR until < ?)"
    " ORDER BY until, hold_id LIMIT ?";
#undef DOVIRA_LEGAL_HOLD_COLUMNS
// A partial erasure (R50): the blind-index rows of one field of a subject.
inline constexpr char kDeleteSubjectLookups[] =
    "DELETE FROM lookups WHERE school_id = ? AND subject_id = ? AND field = ?";
// --- Guardianships (migrations/data/0009_guardianships.sql) -------------------------------------
// kGuardianshipColumns: school_id, guardianship_id, minor_id, email_token, state, method,
// verified_at, verified_by, majority_at, reconsent, reconsent_at, decided_at, body, sealed,
// created_at, updated_at
inline constexpr char kUpsertGuardianship[] =
    "INSERT INTO guardianships (school_id, guardianship_id, minor_id, email_token, state, method,"
    " verified_at, verified_by, majority_at, reconsent, reconsent_at, decided_at, body, sealed,"
    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (school_id, guardianship_id) DO UPDATE SET minor_id = excluded.minor_id,"
    " email_token = excluded.email_token, state = excluded.state, method = excluded.method,"
    " verified_at = excluded.verified_at, verified_by = excluded.verified_by,"
    " majority_at = excluded.majority_at, reconsent = excluded.reconsent,"
    " reconsent_at = excluded.reconsent_at, decided_at = excluded.decided_at,"
    " body = excluded.body, sealed = excluded.sealed, updated_at = excluded.updated_at";
inline constexpr char kGetGuardianship[] =
    "SELECT school_id, guardianship_id, minor_id, email_token, state, method, verified_at,"
    " verified_by, majority_at, reconsent, reconsent_at, decided_at, body, sealed, created_at,"
    " updated_at FROM guardianships WHERE school_id = ? AND guardianship_id = ?";
inline constexpr char kMinorGuardianships[] =
    "SELECT school_id, guardianship_id, minor_id, email_token, state, method, verified_at,"
    " verified_by, majority_at, reconsent, reconsent_at, decided_at, body, sealed, created_at,"
    " updated_at FROM guardianships"
    " WHERE school_id = ? AND minor_id = ? ORDER BY created_at, guardianship_id";
inline constexpr char kGuardianshipsByEmail[] =
    "SELECT school_id, guardianship_id, minor_id, email_token, state, method, verified_at,"
    " verified_by, majority_at, reconsent, reconsent_at, decided_at, body, sealed, created_at,"
    " updated_at FROM guardianships"
    " WHERE school_id = ? AND email_token = ? ORDER BY created_at, guardianship_id";
inline constexpr char kForEachGuardianship[] =
    "SELECT school_id, guardianship_id, minor_id, email_token, state, method, verified_at,"
    " verified_by, majority_at, reconsent, reconsent_at, decided_at, body, sealed, created_at,"
    " updated_at FROM guardianships WHERE school_id = ?";
inline constexpr char kDueMajorities[] =
    "SELECT school_id, guardianship_id, minor_id, email_token, state, method, verified_at,"
    " verified_by, majority_at, reconsent, reconsent_at, decided_at, body, sealed, created_at,"
    " updated_at FROM guardianships"
    " WHERE school_id = ? AND reconsent = '' AND majority_at <= ? ORDER BY majority_at LIMIT ?";

// --- Retention (migrations/data/0013_retention.sql) ---------------------------------------------
inline constexpr char kUpsertSubjectEvent[] =
    "INSERT INTO subject_events (school_id, subject_id, kind, at, source, recorded_at)"
    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (school_id, subject_id, kind) DO UPDATE SET"
    " at = excluded.at, source = excluded.source, recorded_at = excluded.recorded_at";
inline constexpr char kGetSubjectEvents[] =
    "SELECT school_id, subject_id, kind, at, source, recorded_at FROM subject_events"
    " WHERE school_id = ? AND subject_id = ? ORDER BY kind";
#define DOVIRA_RETENTION_COLUMNS \
  " school_id, subject_id, purpose, due_date, due_at, trigger, trigger_at, state"
inline constexpr char kUpsertRetentionDue[] =
    "INSERT INTO retention_due (" DOVIRA_RETENTION_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (school_id, subject_id, purpose) DO UPDATE SET due_date = excluded.due_date,"
    " due_at = excluded.due_at, trigger = excluded.trigger, trigger_at = excluded.trigger_at,"
    " state = excluded.state";
inline constexpr char kDeleteRetentionDue[] =
    "DELETE FROM retention_due WHERE school_id = ? AND subject_id = ? AND purpose = ?";
inline constexpr char kSubjectRetention[] =
    "SELECT" DOVIRA_RETENTION_COLUMNS " FROM retention_due"
    " WHERE school_id = ? AND subject_id = ? ORDER BY purpose";
// Binds: school, through, after_date, after_date, after_subject, after_date, after_subject,
// after_purpose, limit.
inline constexpr char kDueRetention[] =
    "SELECT" DOVIRA_RETENTION_COLUMNS " FROM retention_due INDEXED BY retention_due_by_date"
    " WHERE school_id = ? AND state = 'pending' AND due_date <= ?"
    " AND (due_date > ? OR (due_date = ? AND (subject_id > ?"
    " OR (subject_id = ? AND purpose > ?))))"
    " ORDER BY due_date, subject_id, purpose LIMIT ?";
inline constexpr char kForEachEndedRetention[] =
    "SELECT" DOVIRA_RETENTION_COLUMNS " FROM retention_due WHERE school_id = ? AND state = 'ended'";
#undef DOVIRA_RETENTION_COLUMNS
inline constexpr char kUpsertRetentionMark[] =
    "INSERT INTO retention_marks (school_id, refreshed_at) VALUES (?, ?)"
    " ON CONFLICT (school_id) DO UPDATE SET refreshed_at = excluded.refreshed_at";
inline constexpr char kGetRetentionMark[] =
    "SELECT refreshed_at FROM retention_marks WHERE school_id = ?";
// Binds: school, since, until.
inline constexpr char kSubjectsUpdatedBetween[] =
    "SELECT subject_id FROM subjects INDEXED BY subjects_by_update"
    " WHERE school_id = ? AND updated_at > ? AND updated_at <= ?";
inline constexpr char kConsentSubjectsBetween[] =
    "SELECT subject_id FROM consents INDEXED BY consents_by_time"
    " WHERE school_id = ? AND at > ? AND at <= ?";

}  // namespace dovira::sqlite::sql
