-- Engine events (persisted so clients can replay from a time or a sequence number) and what
-- restart policies need to remember about a container.

CREATE TABLE events (
    seq             INTEGER PRIMARY KEY,   -- assigned by the engine, strictly increasing
    time_ns         INTEGER NOT NULL,      -- unix nanoseconds
    type            TEXT NOT NULL,         -- container | image | volume | network
    action          TEXT NOT NULL,         -- docker's action name: create, start, die, pull …
    actor_id        TEXT NOT NULL,
    attributes_json TEXT NOT NULL          -- JSON object of string attributes
);
CREATE INDEX events_time ON events(time_ns);

-- Restarts done by the container's restart policy since it was last started by hand.
ALTER TABLE containers ADD COLUMN restart_count INTEGER NOT NULL DEFAULT 0;
-- Set by a stop or kill through the API (docker's HasBeenManuallyStopped): always and
-- unless-stopped do not restart such a container; cleared by the next start.
ALTER TABLE containers ADD COLUMN manually_stopped INTEGER NOT NULL DEFAULT 0;
