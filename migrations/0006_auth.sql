-- Who may use the TCP API: users and their browser sessions, API tokens, read-only board
-- links, and the audit log of what was done through the API. Secrets are never stored: only
-- their SHA-256 (sessions, tokens, links; high-entropy values) or an Argon2id hash (passwords).

CREATE TABLE users (
    name                   TEXT PRIMARY KEY,  -- [a-z0-9][a-z0-9._-]*, 1–64 chars, never `root`
    role                   TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    password_hash          TEXT NOT NULL,     -- Argon2id PHC string ($argon2id$v=19$m=…)
    created_at_ms          INTEGER NOT NULL,  -- unix milliseconds
    password_changed_at_ms INTEGER NOT NULL   -- unix milliseconds
);

CREATE TABLE sessions (
    id_hash       TEXT PRIMARY KEY,           -- SHA-256 hex of the cookie value
    user_name     TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    csrf_token    TEXT NOT NULL,              -- sent back in X-CSRF-Token with state changes
    created_at_ms INTEGER NOT NULL,           -- unix milliseconds: the login
    last_seen_ms  INTEGER NOT NULL,           -- unix milliseconds: last use (the idle timeout)
    expires_at_ms INTEGER NOT NULL            -- unix milliseconds: the absolute timeout
);
CREATE INDEX sessions_user ON sessions(user_name);

CREATE TABLE api_tokens (
    id            TEXT PRIMARY KEY,           -- 12 hex chars, public (for `token revoke`)
    secret_hash   TEXT NOT NULL UNIQUE,       -- SHA-256 hex of the token value (berth_…)
    name          TEXT NOT NULL,              -- what the owner called it
    owner         TEXT NOT NULL,              -- a user name, or `root` (no FK: root is no row)
    role          TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    created_at_ms INTEGER NOT NULL,           -- unix milliseconds
    expires_at_ms INTEGER,                    -- unix milliseconds; NULL: until revoked
    last_used_ms  INTEGER,                    -- unix milliseconds (updated at most once a minute)
    revoked_at_ms INTEGER                     -- unix milliseconds; NULL: not revoked
);
CREATE INDEX api_tokens_owner ON api_tokens(owner);

CREATE TABLE board_links (
    id            TEXT PRIMARY KEY,           -- 12 hex chars, public (for revoking)
    secret_hash   TEXT NOT NULL UNIQUE,       -- SHA-256 hex of the link's secret (board_…)
    name          TEXT NOT NULL,              -- what its creator called it
    created_by    TEXT NOT NULL,              -- a user name, or `root`
    created_at_ms INTEGER NOT NULL,           -- unix milliseconds
    expires_at_ms INTEGER,                    -- unix milliseconds; NULL: until revoked
    revoked_at_ms INTEGER                     -- unix milliseconds; NULL: not revoked
);

CREATE TABLE audit (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT, -- strictly increasing, never reused (paging)
    time_ms    INTEGER NOT NULL,              -- unix milliseconds
    actor      TEXT NOT NULL,                 -- user name (a token's owner), root, or empty
    actor_kind TEXT NOT NULL,                 -- session | token | socket | board | anonymous
    token_id   TEXT,                          -- the token's id when a token was used
    peer       TEXT NOT NULL,                 -- 127.0.0.1:51234, or unix with the peer's uid
    action     TEXT NOT NULL,                 -- the route (POST /api/v1/…), login, logout
    object     TEXT,                          -- the object named in the address, if any
    status     INTEGER NOT NULL               -- the HTTP status of the answer
);
CREATE INDEX audit_time ON audit(time_ms);
