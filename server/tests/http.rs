//! The HTTP side of a real daemon: the JSON container list and the server-rendered page.

mod common;

use common::web::{self, Session};
use common::Daemon;

/// A GET as the logged-in admin's browser sends it.
async fn get(d: &Daemon, session: &Session, path: &str) -> (u16, String) {
    let answer = web::as_session(d, session, "GET", path, &[("Accept", "text/html")], b"").await;
    (answer.status, answer.body)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_json_list_and_the_page_show_the_same_containers() {
    let d = Daemon::start();
    d.load_busybox();
    let out = d.berth(&[
        "run",
        "--name",
        "listed-one",
        "busybox",
        "sh",
        "-c",
        "exit 4",
    ]);
    assert_eq!(out.status.code(), Some(4));
    let session = web::admin(&d).await;
    let (status, body) = get(&d, &session, "/api/v1/containers").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"name\":\"listed-one\""), "{body}");
    assert!(body.contains("\"exit_code\":4"), "{body}");
    let (status, page) = get(&d, &session, "/containers").await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("listed-one"),
        "the page has no server-rendered row: {page}"
    );
    let (status, _) = get(&d, &session, "/api/v1/containers/nope").await;
    assert_eq!(status, 404);
}
