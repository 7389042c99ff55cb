//! Registry browsing on the wire: one page of a registry's catalogue or of a repository's tags.

use serde::{Deserialize, Serialize};

/// One page of names, and where the next page starts (its `last=`), if there is one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page {
    pub names: Vec<String>,
    pub next: Option<String>,
}

/// The query of the browse endpoints: at most `n` names after `last`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct PageQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<String>,
}

/// Credentials: a misspelt field (`passwd`) is refused rather than silently dropped.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub registry: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
}

/// The body of registry logout.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LogoutRequest {
    pub registry: String,
}

/// What registry login and logout answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginResponse {
    /// The registry's normalised name.
    pub registry: String,
    pub status: String,
}

/// A registry with stored credentials as anyone may see it: its name and the user name,
/// never the password or token.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoredLogin {
    /// The registry's normalised name, e.g. `docker.io`, `127.0.0.1:5000`.
    pub registry: String,
    pub username: String,
}
