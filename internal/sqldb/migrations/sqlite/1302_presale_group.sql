-- A pre-sale may belong to a topic group: its page shows the progress.
ALTER TABLE presales ADD COLUMN group_id INTEGER REFERENCES fan_groups(id);
CREATE INDEX presales_group ON presales(group_id) WHERE group_id IS NOT NULL;
