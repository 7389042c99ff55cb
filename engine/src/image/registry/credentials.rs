//! Stored registry credentials: `registry-auth.json` under the data root, mode 0600, written
//! atomically; registry names normalised as docker's `login` does. Passwords never appear in
//! `Debug` output, logs or any API answer.

use super::RegistryError;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A user name and password (or identity token) for one registry.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl Credentials {
    /// The value of an `Authorization: Basic …` header (RFC 7617).
    pub fn basic_header(&self) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{}", self.username, self.password))
        )
    }
}

/// The file's shape, as docker's `config.json` keeps logins: `{"auths": {host: {"auth":
/// base64("user:password")}}}`.
#[derive(Default, Serialize, Deserialize)]
struct AuthFile {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
}

#[derive(Serialize, Deserialize)]
struct AuthEntry {
    auth: String,
}

/// The credentials file of a data root.
pub struct CredentialStore {
    path: PathBuf,
    /// Serialises read-modify-write cycles of the file.
    lock: Mutex<()>,
}

/// Docker's names for Docker Hub, all meaning `docker.io`.
const HUB_ALIASES: [&str; 4] = [
    "docker.io",
    "index.docker.io",
    "registry-1.docker.io",
    "registry.hub.docker.com",
];

/// The registry host a user typed, as credentials are keyed: scheme, path and trailing
/// slashes dropped (`https://index.docker.io/v1/` → `docker.io`), host lower-cased.
pub fn normalize_registry(input: &str) -> Result<String, RegistryError> {
    let trimmed = input.trim();
    let without_scheme = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .unwrap_or(trimmed);
    let host = without_scheme
        .split('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let valid = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
    if !valid {
        return Err(RegistryError::BadRegistry(input.to_string()));
    }
    if HUB_ALIASES.contains(&host.as_str()) {
        return Ok(super::super::reference::DEFAULT_DOMAIN.to_string());
    }
    Ok(host)
}

impl CredentialStore {
    pub fn new(data_root: &Path) -> CredentialStore {
        CredentialStore {
            path: data_root.join("registry-auth.json"),
            lock: Mutex::new(()),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The credentials stored for a (normalised) registry host.
    pub fn get(&self, registry: &str) -> Result<Option<Credentials>, RegistryError> {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let file = self.read()?;
        Ok(file
            .auths
            .get(registry)
            .and_then(|entry| decode(&entry.auth)))
    }

    /// The registries that have credentials (no passwords).
    pub fn registries(&self) -> Result<Vec<String>, RegistryError> {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        Ok(self.read()?.auths.into_keys().collect())
    }

    /// Each registry with credentials and the user name stored for it, in name order; never
    /// a password. An entry that cannot be decoded has an empty user name.
    pub fn usernames(&self) -> Result<Vec<(String, String)>, RegistryError> {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        Ok(self
            .read()?
            .auths
            .into_iter()
            .map(|(registry, entry)| {
                let username = decode(&entry.auth).map(|c| c.username).unwrap_or_default();
                (registry, username)
            })
            .collect())
    }

    pub fn set(&self, registry: &str, credentials: &Credentials) -> Result<(), RegistryError> {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut file = self.read()?;
        let auth = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", credentials.username, credentials.password));
        file.auths.insert(registry.to_string(), AuthEntry { auth });
        self.write(&file)
    }

    /// Forgets a registry's credentials; `false` if there were none.
    pub fn remove(&self, registry: &str) -> Result<bool, RegistryError> {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut file = self.read()?;
        let removed = file.auths.remove(registry).is_some();
        if removed {
            self.write(&file)?;
        }
        Ok(removed)
    }

    fn read(&self) -> Result<AuthFile, RegistryError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| RegistryError::Credentials {
                action: "parse",
                path: self.path.clone(),
                source: io::Error::new(io::ErrorKind::InvalidData, e.to_string()),
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(AuthFile::default()),
            Err(source) => Err(RegistryError::Credentials {
                action: "read",
                path: self.path.clone(),
                source,
            }),
        }
    }

    /// Writes a temp file created with mode 0600 (never readable by others, not even
    /// briefly), fsyncs it and renames it over the file.
    fn write(&self, file: &AuthFile) -> Result<(), RegistryError> {
        let tmp = self.path.with_extension("json.tmp");
        let error = |action, source| RegistryError::Credentials {
            action,
            path: self.path.clone(),
            source,
        };
        let bytes = serde_json::to_vec_pretty(file)
            .map_err(|e| error("encode", io::Error::other(e.to_string())))?;
        let _ = std::fs::remove_file(&tmp);
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| error("create", e))?;
        out.write_all(&bytes)
            .and_then(|()| out.sync_all())
            .map_err(|e| error("write", e))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| error("replace", e))
    }
}

fn decode(auth: &str) -> Option<Credentials> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(auth)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (username, password) = text.split_once(':')?;
    Some(Credentials {
        username: username.to_string(),
        password: password.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn creds(user: &str, password: &str) -> Credentials {
        Credentials {
            username: user.into(),
            password: password.into(),
        }
    }

    #[test]
    fn registry_names_normalise_like_docker_login() {
        for hub in [
            "docker.io",
            "index.docker.io",
            "https://index.docker.io/v1/",
            "registry-1.docker.io",
        ] {
            assert_eq!(normalize_registry(hub).expect(hub), "docker.io");
        }
        assert_eq!(
            normalize_registry("http://Reg.Example:5000/").expect("host"),
            "reg.example:5000"
        );
        assert_eq!(
            normalize_registry("127.0.0.1:5000").expect("host"),
            "127.0.0.1:5000"
        );
        assert!(normalize_registry("").is_err());
        assert!(normalize_registry("a b").is_err());
        assert!(normalize_registry("https:///x").is_err());
    }

    #[test]
    fn the_file_is_private_and_round_trips() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = CredentialStore::new(dir.path());
        assert_eq!(store.get("r:1").expect("get"), None);
        store.set("r:1", &creds("alice", "s3:cret")).expect("set");
        store.set("r:2", &creds("bob", "pw")).expect("set");
        let mode = std::fs::metadata(store.path())
            .expect("file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(
            store.get("r:1").expect("get"),
            Some(creds("alice", "s3:cret"))
        );
        assert_eq!(store.registries().expect("list"), vec!["r:1", "r:2"]);
        assert!(store.remove("r:1").expect("remove"));
        assert!(!store.remove("r:1").expect("remove again"));
        assert_eq!(store.get("r:1").expect("get"), None);
        assert_eq!(store.get("r:2").expect("get"), Some(creds("bob", "pw")));
        let mode = std::fs::metadata(store.path())
            .expect("file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn usernames_list_each_registry_with_its_user_and_no_password() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = CredentialStore::new(dir.path());
        assert!(store.usernames().expect("empty").is_empty());
        store.set("r:2", &creds("bob", "pw:2")).expect("set");
        store.set("r:1", &creds("alice", "s3cret")).expect("set");
        let listed = store.usernames().expect("list");
        assert_eq!(
            listed,
            vec![
                ("r:1".to_string(), "alice".to_string()),
                ("r:2".to_string(), "bob".to_string())
            ]
        );
        assert!(!format!("{listed:?}").contains("s3cret"));
        // Editing a login replaces its user; the list follows.
        store.set("r:1", &creds("carol", "new")).expect("edit");
        assert_eq!(store.usernames().expect("list")[0].1, "carol");
    }

    #[test]
    fn debug_output_hides_the_password() {
        let text = format!("{:?}", creds("alice", "hunter2"));
        assert!(
            text.contains("alice") && !text.contains("hunter2"),
            "{text}"
        );
        assert_eq!(
            creds("Aladdin", "open sesame").basic_header(),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }
}
