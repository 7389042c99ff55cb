//! `berth whoami`: who the daemon takes the CLI for (`GET /api/v1/auth/me`).

use super::api::Api;
use super::format;
use anyhow::Result;
use berth_wire::auth::{Me, PrincipalKind};

pub async fn run(api: &Api) -> Result<i32> {
    let me = api.me().await?;
    print!("{}", describe(&me, format::now_ms()));
    Ok(0)
}

fn describe(me: &Me, now: i64) -> String {
    let via = match me.kind {
        PrincipalKind::Session => "a login session",
        PrincipalKind::Token => "an API token",
        PrincipalKind::Socket => "the unix socket",
        PrincipalKind::Board => "a board link",
    };
    let mut out = format!("User:  {}\nRole:  {}\nVia:   {via}\n", me.username, me.role);
    if me.expires_at_ms.is_some() {
        let expires = format::expires_ms(me.expires_at_ms, now);
        out.push_str(&format!("Until: {expires}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_wire::Role;

    #[test]
    fn whoami_names_the_user_role_and_way_in() {
        let me = Me {
            username: "root".into(),
            role: Role::Admin,
            kind: PrincipalKind::Socket,
            csrf_token: None,
            expires_at_ms: None,
        };
        assert_eq!(
            describe(&me, 0),
            "User:  root\nRole:  admin\nVia:   the unix socket\n"
        );
        let me = Me {
            kind: PrincipalKind::Token,
            expires_at_ms: Some(2 * 3_600_000),
            ..me
        };
        assert!(describe(&me, 0).ends_with("Via:   an API token\nUntil: in 2 hours\n"));
    }
}
