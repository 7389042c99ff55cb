//! What the server's unit tests share: an engine on a temporary data root (no shim, no
//! network set-up until a container needs one).

use berth_engine::{Engine, EngineConfig};

pub async fn engine(dir: &tempfile::TempDir) -> Engine {
    Engine::open(EngineConfig {
        data_root: dir.path().join("data"),
        shim_program: dir.path().join("no-shim"),
        registry: Default::default(),
        network: Default::default(),
        cgroup_parent: berth_engine::DEFAULT_CGROUP_PARENT.into(),
        auth: Default::default(),
        alerts: Default::default(),
    })
    .await
    .expect("engine opens on an empty data root")
}
