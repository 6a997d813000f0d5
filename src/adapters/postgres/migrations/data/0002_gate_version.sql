-- Data database, version 2: each subject's gate version (ports::GateCheck), as SQLite's
-- version 18.
--
-- Raised in every batch that writes a row the gate's state of the subject is built from; a use's
-- audit entry is written only while the version its decision was made on is still the stored one.
-- Several servers on one database learn of each other's changes to a subject this way.
ALTER TABLE subjects ADD COLUMN gate_version BIGINT NOT NULL DEFAULT 1 CHECK (gate_version >= 1);
