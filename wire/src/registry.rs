//! Registry browsing on the wire: one page of a registry's catalogue or of a repository's tags.

use serde::{Deserialize, Serialize};

/// One page of names, and where the next page starts (its `last=`), if there is one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    pub names: Vec<String>,
    pub next: Option<String>,
}
