-- The topic group a room invites its viewers to join (the card the host
-- pushed last); one per room.
CREATE TABLE room_groups (
  room_id   INTEGER PRIMARY KEY REFERENCES rooms(id),
  group_id  INTEGER NOT NULL REFERENCES fan_groups(id),
  pushed_at INTEGER NOT NULL
);
