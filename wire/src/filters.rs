//! The query of the lists that take docker's filters.

use serde::{Deserialize, Serialize};

/// A list's query: docker's JSON `filters` (`{"dangling":["true"]}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct FiltersQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filters: Option<String>,
}
