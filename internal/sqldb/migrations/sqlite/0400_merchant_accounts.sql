-- Merchants can be closed by the platform operator (`shelflive merchant
-- disable`): staff and viewers are refused, rooms are off.
ALTER TABLE merchants ADD COLUMN disabled_at INTEGER;
