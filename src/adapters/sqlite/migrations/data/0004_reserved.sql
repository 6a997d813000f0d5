-- data.db, version 4: reserved for a change merged separately; this placeholder keeps the numbers
-- without a gap until then and changes nothing.
SELECT 1;
