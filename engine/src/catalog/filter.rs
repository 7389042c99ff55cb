//! `images --filter`: docker's image filters. `dangling` (`true`: untagged images only,
//! `false`: tagged ones), `reference` (a glob over `repository` or `repository:tag`), `label`
//! (`KEY` or `KEY=VALUE`, all must match), `before`/`since` (an image: created earlier or
//! later than it).

use super::ImageSummary;
use crate::filters::Filters;
use crate::{Error, Result};

const KEYS: [&str; 5] = ["dangling", "reference", "label", "before", "since"];

/// Checked filters, ready to match. The caller looks up the creation times (unix seconds) of
/// the `before`/`since` images.
#[derive(Debug, Clone, Default)]
pub struct ImageFilter {
    filters: Filters,
    dangling: Option<bool>,
    pub(crate) before: Option<i64>,
    pub(crate) since: Option<i64>,
}

impl ImageFilter {
    pub fn new(filters: Filters) -> Result<Self> {
        filters.check_keys(&KEYS)?;
        let mut dangling = None;
        for value in filters.values("dangling") {
            let wanted = match value.to_ascii_lowercase().as_str() {
                "true" | "1" => true,
                "false" | "0" => false,
                _ => {
                    return Err(Error::InvalidInput(format!(
                        "invalid filter 'dangling={value}': true or false"
                    )))
                }
            };
            if dangling.is_some_and(|d| d != wanted) {
                return Err(Error::InvalidInput(
                    "conflicting filters: dangling=true and dangling=false".into(),
                ));
            }
            dangling = Some(wanted);
        }
        filters.check_single(&["before", "since"], "image")?;
        Ok(ImageFilter {
            filters,
            dangling,
            ..Default::default()
        })
    }

    pub fn filters(&self) -> &Filters {
        &self.filters
    }

    /// The image as the filters list it, or `None` when they leave it out. A `reference`
    /// filter also leaves out the image's other tags, as docker's does.
    pub fn select(&self, mut image: ImageSummary) -> Option<ImageSummary> {
        let references = self.filters.values("reference");
        if !references.is_empty() {
            image.repo_tags.retain(|tag| {
                let repo = tag.rsplit_once(':').filter(|(_, t)| !t.contains('/'));
                references.iter().any(|pattern| {
                    glob(pattern, tag) || repo.is_some_and(|(repo, _)| glob(pattern, repo))
                })
            });
            if image.repo_tags.is_empty() {
                return None;
            }
        }
        self.matches(&image).then_some(image)
    }

    /// Whether the image passes every filter but `reference`.
    fn matches(&self, image: &ImageSummary) -> bool {
        let created = created_seconds(image.created.as_deref());
        self.dangling
            .is_none_or(|d| d == image.repo_tags.is_empty())
            && self.filters.labels_match(&image.labels)
            && self.before.is_none_or(|t| created < t)
            && self.since.is_none_or(|t| created > t)
    }
}

/// An image's creation time in unix seconds (0 when it has none, or an unreadable one).
pub fn created_seconds(created: Option<&str>) -> i64 {
    created
        .and_then(|c| humantime::parse_rfc3339_weak(c).ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs() as i64)
}

/// Shell-style matching as Go's `path.Match`: `*` is any run of characters but `/`, `?` one
/// character but `/`; everything else matches itself.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // Classic two-pointer matching with a single backtrack point for the last `*`.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some('?') if t[ti] != '/' => {
                pi += 1;
                ti += 1;
            }
            Some(&c) if c != '*' && c != '?' && c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                // The star takes one more character, unless that would cross a `/`.
                Some((sp, st)) if t[st] != '/' => {
                    star = Some((sp, st + 1));
                    pi = sp + 1;
                    ti = st + 1;
                }
                _ => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(tags: &[&str], created: &str) -> ImageSummary {
        ImageSummary {
            id: "sha256:ab".into(),
            repo_tags: tags.iter().map(|t| t.to_string()).collect(),
            repo_digests: vec![],
            created: Some(created.into()),
            size: 0,
            labels: [(
                "org.opencontainers.image.title".to_string(),
                "app".to_string(),
            )]
            .into(),
        }
    }

    fn matches(pairs: &[&str], image: &ImageSummary) -> bool {
        ImageFilter::new(Filters::from_args(pairs).unwrap())
            .unwrap()
            .select(image.clone())
            .is_some()
    }

    #[test]
    fn globs_match_like_go_path_match() {
        assert!(glob("busy*", "busybox"));
        assert!(glob("*box:lat?st", "busybox:latest"));
        assert!(glob("*", "busybox"));
        assert!(!glob("*", "localhost:5000/app"));
        assert!(glob("*/app", "localhost:5000/app"));
        assert!(glob("a*b*c", "abxbc"));
        assert!(!glob("busy", "busybox"));
        assert!(!glob("a?c", "a/c"));
    }

    #[test]
    fn each_key_matches_and_misses() {
        let tagged = image(
            &["busybox:latest", "localhost:5000/app:v1"],
            "2024-01-02T00:00:00Z",
        );
        let dangling = image(&[], "2024-01-02T00:00:00Z");
        assert!(matches(&["dangling=true"], &dangling));
        assert!(!matches(&["dangling=true"], &tagged));
        assert!(matches(&["dangling=false"], &tagged));
        assert!(matches(&["reference=busybox"], &tagged));
        assert!(matches(&["reference=busy*:latest"], &tagged));
        assert!(matches(&["reference=*/app"], &tagged));
        assert!(!matches(&["reference=alpine"], &tagged));
        assert!(!matches(&["reference=*"], &dangling));
        let f = ImageFilter::new(Filters::from_args(&["reference=busybox"]).unwrap()).unwrap();
        let only = f.select(tagged.clone()).unwrap();
        assert_eq!(
            only.repo_tags,
            ["busybox:latest"],
            "the other tags are left out"
        );
        assert!(matches(
            &["label=org.opencontainers.image.title=app"],
            &tagged
        ));
        assert!(!matches(
            &["label=org.opencontainers.image.title=db"],
            &tagged
        ));
        let mut f = ImageFilter::new(Filters::default()).unwrap();
        f.before = Some(created_seconds(Some("2024-01-03T00:00:00Z")));
        assert!(f.matches(&tagged));
        f.before = None;
        f.since = Some(created_seconds(Some("2024-01-02T00:00:00Z")));
        assert!(!f.matches(&tagged), "not since itself");
    }

    #[test]
    fn bad_filters_are_clear_errors() {
        for (bad, says) in [
            (&["colour=red"][..], "invalid filter 'colour'"),
            (&["dangling=maybe"][..], "invalid filter 'dangling=maybe'"),
            (&["dangling=true", "dangling=false"][..], "conflicting"),
            (&["since=a", "since=b"][..], "takes one image"),
        ] {
            let e = ImageFilter::new(Filters::from_args(bad).unwrap()).unwrap_err();
            assert!(e.to_string().contains(says), "{bad:?}: {e}");
        }
    }
}
