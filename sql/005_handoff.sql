-- 005_handoff.sql: hand-off codes. A site that creates its customers
-- itself hands the visitor's page a code (/#handoff=CODE) instead of the
-- customer's tokens: it works once, for a minute, and the tokens it gives
-- end every other token of the customer, so whoever made the link holds
-- nothing that still works. Kept beside the mailed links (resume_codes),
-- which work any number of times until they expire.
ALTER TABLE resume_codes ADD COLUMN single_use INTEGER NOT NULL DEFAULT 0;
