//! `berth version`: the client's version and the daemon's (`GET /api/v1/version`).

use super::api::Api;
use anyhow::Result;

pub async fn run(api: &Api) -> Result<i32> {
    println!("Client:\n Version:    {}", env!("CARGO_PKG_VERSION"));
    println!(" OS/Arch:    linux/{}\n", std::env::consts::ARCH);
    let server = api.version().await?;
    println!(
        "Server:\n Version:    {}\n API:        {}",
        server.version, server.api
    );
    Ok(0)
}
