//! `berth version`: the client's version and the daemon's (`GET /api/v1/version`).

use crate::client::Client;
use anyhow::Result;
use hyper::Method;

#[derive(serde::Deserialize)]
struct ServerVersion {
    version: String,
    api: String,
}

pub async fn run(client: &Client) -> Result<i32> {
    println!("Client:\n Version:    {}", env!("CARGO_PKG_VERSION"));
    println!(" OS/Arch:    linux/{}\n", std::env::consts::ARCH);
    let server: ServerVersion = client
        .json(Method::GET, "/api/v1/version", None::<&()>)
        .await?;
    println!(
        "Server:\n Version:    {}\n API:        {}",
        server.version, server.api
    );
    Ok(0)
}
