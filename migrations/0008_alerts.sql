-- Alerts (issue 13): rules an admin sets up (what to watch for, where to send it), the
-- webhook deliveries they queue, and every attempt at sending one (the delivery log).
-- Pending deliveries live here, not in memory, so a daemon restart resumes them.

CREATE TABLE alert_rules (
    id            INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: a log line names one rule
    kind          TEXT NOT NULL CHECK (kind IN ('died', 'oom', 'unhealthy', 'restart_loop')),
    restarts      INTEGER,                    -- restart_loop only: N restarts …
    minutes       INTEGER,                    -- … within M minutes
    container     TEXT,                       -- only this container (name or id prefix)
    label         TEXT,                       -- only containers with this label (key or key=value)
    webhook       TEXT NOT NULL,              -- http:// or https:// URL, POSTed JSON
    enabled       INTEGER NOT NULL DEFAULT 1,
    created_at_ms INTEGER NOT NULL            -- unix milliseconds
);

CREATE TABLE alert_deliveries (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    rule_id       INTEGER NOT NULL,           -- no FK: the log outlives a removed rule
    alert         TEXT NOT NULL,              -- died | oom | unhealthy | restart_loop | test
    url           TEXT NOT NULL,              -- the rule's webhook when the alert fired
    body          TEXT NOT NULL,              -- the JSON to POST ('' once dropped)
    state         TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'delivered', 'failed', 'dropped', 'cancelled')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_at_ms    INTEGER NOT NULL,           -- unix milliseconds: when a pending one is due
    created_at_ms INTEGER NOT NULL
);
CREATE INDEX alert_deliveries_due ON alert_deliveries(state, next_at_ms);

CREATE TABLE alert_attempts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id   INTEGER NOT NULL REFERENCES alert_deliveries(id) ON DELETE CASCADE,
    rule_id       INTEGER NOT NULL,
    alert         TEXT NOT NULL,
    time_ms       INTEGER NOT NULL,           -- unix milliseconds
    attempt       INTEGER NOT NULL,           -- 1, 2, …; 0 for a delivery dropped unsent
    status        INTEGER,                    -- the HTTP status, if an answer came
    error         TEXT,                       -- what went wrong, if anything
    outcome       TEXT NOT NULL CHECK (outcome IN ('delivered', 'retrying', 'failed', 'dropped')),
    next_retry_ms INTEGER                     -- unix milliseconds, when retrying
);
CREATE INDEX alert_attempts_delivery ON alert_attempts(delivery_id);
