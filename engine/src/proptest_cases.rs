//! The property tests' case count: 256, or `PROPTEST_CASES` when set (CI may ask for more).

use proptest::prelude::ProptestConfig;

pub(crate) fn config() -> ProptestConfig {
    ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(256),
    )
}
