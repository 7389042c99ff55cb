//! The query of the lists that take docker's filters.

use serde::{Deserialize, Serialize};

/// A list's query: docker's JSON `filters` (`{"dangling":["true"]}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FiltersQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filters: Option<String>,
}
