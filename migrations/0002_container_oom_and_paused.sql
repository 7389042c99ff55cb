-- Whether the kernel's OOM killer ended a container (docker's State.OOMKilled).
-- The state column also takes 'paused' from now on (frozen cgroup).
ALTER TABLE containers ADD COLUMN oom_killed INTEGER NOT NULL DEFAULT 0;
