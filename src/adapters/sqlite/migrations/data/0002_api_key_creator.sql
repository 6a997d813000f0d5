-- data.db, version 2: an API key remembers the staff member who created it, so that a person's
-- keys are revoked together with their account when they leave (R87). "" for a key created by the
-- system, and for every key stored before this version (their creator was not recorded).
ALTER TABLE api_keys ADD COLUMN created_by TEXT NOT NULL DEFAULT '';
