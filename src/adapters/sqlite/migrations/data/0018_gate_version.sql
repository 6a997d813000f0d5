-- data.db, version 18: each subject's gate version (ports::GateCheck).
--
-- Raised in every batch that writes a row the gate's state of the subject is built from; a use's
-- audit entry is written only while the version its decision was made on is still the stored one.
-- Existing subjects start at 1, as new ones do.
ALTER TABLE subjects ADD COLUMN gate_version INTEGER NOT NULL DEFAULT 1 CHECK (gate_version >= 1);
