//! Exec instances on the wire: the create body (docker's), and `GET /exec/{id}/json`.

use serde::{Deserialize, Serialize};

/// What `exec` asks for (docker's exec create body).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "PascalCase")]
pub struct ExecConfig {
    pub cmd: Vec<String>,
    /// `KEY=VALUE` pairs added to (and overriding) the container's environment.
    #[serde(default)]
    pub env: Vec<String>,
    /// `USER[:GROUP]`, names resolved in the container's /etc/passwd; else the container's.
    #[serde(default)]
    pub user: Option<String>,
    /// Else the container's working directory.
    #[serde(default)]
    pub working_dir: Option<String>,
    #[serde(default)]
    pub tty: bool,
    /// The client sends input (`-i`); else the command's stdin is /dev/null.
    #[serde(default)]
    pub attach_stdin: bool,
    #[serde(default)]
    pub privileged: bool,
}

/// `GET /exec/{id}/json`, docker's shape.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "PascalCase")]
pub struct ExecInspect {
    #[serde(rename = "ID")]
    pub id: String,
    pub running: bool,
    pub exit_code: Option<i32>,
    pub process_config: ProcessConfig,
    pub open_stdin: bool,
    pub open_stdout: bool,
    pub open_stderr: bool,
    #[serde(rename = "ContainerID")]
    pub container_id: String,
    /// Host pid of the command; 0 before it started.
    pub pid: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProcessConfig {
    pub tty: bool,
    pub entrypoint: String,
    pub arguments: Vec<String>,
    pub privileged: bool,
    pub user: String,
}

/// The answer of exec create: the new instance's id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExecCreated {
    #[serde(rename = "Id")]
    pub id: String,
}

/// docker's exec start body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "PascalCase")]
pub struct StartBody {
    /// Run it in the background; the answer comes once it started.
    #[serde(default)]
    pub detach: bool,
    /// The terminal's first size, `[rows, columns]`.
    #[serde(default)]
    pub console_size: Option<[u16; 2]>,
}
