//! `exec` on the engine: create an exec instance in a running container, start it (the helper
//! `berth-shim shim-exec` joins the container), resize its terminal, inspect it.

use super::Containers;
use crate::container::{resolve_user, ContainerRow, ContainerState};
use crate::exec::{self, ExecConfig, ExecInspect, ExecSession, Instance};
use crate::ids::new_id;
use crate::runtime::exec::ExecSpec;
use crate::{Error, Result};

impl Containers {
    /// Creates an exec instance in a running container; returns its id.
    pub async fn exec_create(&self, container: &str, config: ExecConfig) -> Result<String> {
        if config.cmd.is_empty() {
            return Err(Error::InvalidInput("no exec command specified".to_string()));
        }
        if let Some(dir) = config.working_dir.as_deref().filter(|d| !d.is_empty()) {
            if !dir.starts_with('/') {
                return Err(Error::InvalidInput(format!(
                    "the working directory {dir:?} is invalid, it needs to be an absolute path"
                )));
            }
        }
        let row = ContainerRow::find(&self.inner.db, container).await?;
        running(&row)?;
        let id = new_id();
        let action = format!("exec_create: {}", config.cmd.join(" "));
        self.inner
            .execs
            .insert(Instance::new(id.clone(), row.id.clone(), config));
        self.inner
            .events
            .container(&row, &action, &[("execID", &id)]);
        Ok(id)
    }

    /// Starts an exec instance; the session carries its input, output and exit code.
    pub async fn exec_start(
        &self,
        exec_id: &str,
        console_size: Option<(u16, u16)>,
    ) -> Result<ExecSession> {
        let instance = self.inner.execs.get(exec_id)?;
        let row = ContainerRow::find(&self.inner.db, &instance.container_id).await?;
        running(&row)?;
        let init_pid = row
            .pid
            .ok_or_else(|| Error::Conflict(format!("container {} is not running", row.name)))?;
        let spec = self.spec_for(&row).await?;
        let config = &instance.config;
        let (uid, gid, groups) = match config.user.as_deref().filter(|u| !u.is_empty()) {
            Some(user) => {
                let group_add = &row.config()?.group_add;
                match resolve_user(user, group_add, &spec.rootfs.lower) {
                    Ok(u) => (u.uid, u.gid, u.groups),
                    Err(e) => {
                        // docker's exec of an unknown user ends with 126: the runtime could
                        // not start the command.
                        instance.refuse(COMMAND_NOT_EXECUTABLE);
                        return Err(e);
                    }
                }
            }
            None => (spec.uid, spec.gid, spec.groups.clone()),
        };
        let mut env = merge_env(&spec.env, &config.env);
        // As docker: a terminal gets TERM=xterm unless the container or exec set it.
        if config.tty && !env.iter().any(|e| e.starts_with("TERM=")) {
            env.push("TERM=xterm".to_string());
        }
        let mut security = spec.security.clone();
        security.privileged |= config.privileged;
        let exec_spec = ExecSpec {
            init_pid: init_pid as i32,
            cgroup_path: spec.cgroup_path.clone(),
            args: config.cmd.clone(),
            env,
            cwd: config
                .working_dir
                .clone()
                .filter(|d| !d.is_empty())
                .unwrap_or(spec.cwd.clone()),
            uid,
            gid,
            groups,
            security,
            seccomp: spec.seccomp.clone(),
            tty: config.tty,
            console_size: console_size.filter(|&(rows, columns)| rows > 0 && columns > 0),
        };
        instance.claim()?;
        let dir = self.container_dir(&row.id).join("exec");
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
        let spec_path = dir.join(format!("{exec_id}.json"));
        let bytes = serde_json::to_vec(&exec_spec)
            .map_err(|e| Error::Corrupt(format!("exec spec: {e}")))?;
        std::fs::write(&spec_path, bytes).map_err(|e| Error::io("write", &spec_path, e))?;
        let command = config.cmd.join(" ");
        let session = exec::start(instance, &self.inner.shim_program, &spec_path).await;
        // The helper has read it (or failed): it is of no more use.
        let _ = std::fs::remove_file(&spec_path);
        let session = session?;
        let exec_id = exec_id.to_string();
        self.inner.events.container(
            &row,
            &format!("exec_start: {command}"),
            &[("execID", &exec_id)],
        );
        let mut exit = session.exit_watch();
        let engine = self.clone();
        tokio::spawn(async move {
            let code = match exit.wait_for(|code| code.is_some()).await {
                Ok(code) => code.unwrap_or(255),
                Err(_) => return,
            };
            let code = code.to_string();
            engine.inner.events.container(
                &row,
                "exec_die",
                &[("execID", &exec_id), ("exitCode", &code)],
            );
        });
        Ok(session)
    }

    /// Sets the window size of a running exec's terminal.
    pub fn exec_resize(&self, exec_id: &str, rows: u16, columns: u16) -> Result<()> {
        self.inner.execs.get(exec_id)?.resize(rows, columns)
    }

    /// Hangs up a running exec's terminal (its client has gone): the command gets SIGHUP, as
    /// from a closed terminal window. Nothing when it has ended or has no terminal.
    pub fn exec_hangup(&self, exec_id: &str) -> Result<()> {
        self.inner.execs.get(exec_id)?.hangup();
        Ok(())
    }

    /// An exec instance as docker's `GET /exec/{id}/json` shows it.
    pub fn exec_inspect(&self, exec_id: &str) -> Result<ExecInspect> {
        Ok(self.inner.execs.get(exec_id)?.inspect())
    }
}

/// Exec only runs in a running container, as docker's.
fn running(row: &ContainerRow) -> Result<()> {
    match row.state()? {
        ContainerState::Running => Ok(()),
        ContainerState::Paused => Err(Error::Conflict(format!(
            "container {} is paused, unpause the container before exec",
            row.name
        ))),
        _ => Err(Error::Conflict(format!(
            "container {} is not running",
            row.name
        ))),
    }
}

/// The container's environment with `extra` added; a key in `extra` replaces the container's.
/// The shell's status for a command that could not be run (126), as docker's exec answers.
const COMMAND_NOT_EXECUTABLE: i32 = 126;

fn merge_env(base: &[String], extra: &[String]) -> Vec<String> {
    let key = |kv: &str| kv.split_once('=').map_or(kv, |(k, _)| k).to_string();
    let mut env: Vec<String> = base
        .iter()
        .filter(|kv| !extra.iter().any(|e| key(e) == key(kv)))
        .cloned()
        .collect();
    env.extend(extra.iter().cloned());
    env
}

#[cfg(test)]
mod tests {
    use super::merge_env;

    #[test]
    fn exec_env_overrides_the_containers() {
        let base = vec!["PATH=/bin".to_string(), "A=1".to_string()];
        let extra = vec!["A=2".to_string(), "B=3".to_string()];
        assert_eq!(merge_env(&base, &extra), vec!["PATH=/bin", "A=2", "B=3"]);
    }
}
