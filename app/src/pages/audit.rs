//! The audit log for admins: every state change and login, newest first — when, who (and
//! how: session, token, socket), from where, what, on which object, and the answer's status —
//! a page at a time; the newest page reads again as the daemon reports changes. Anyone else
//! is told it is for admins (and the server refuses them the data anyway).

use crate::auth::use_caller;
use crate::format::format_utc;
use crate::model::AppError;
use crate::pages::table::DataTable;
use berth_wire::auth::{AuditEntry, AuditPage, Role};
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// One page of the audit log before the sequence number `before`. A GET, for admins.
#[server(prefix = "/ui/fn", endpoint = "read_audit", input = GetUrl)]
pub async fn read_audit(before: Option<i64>) -> Result<AuditPage, AppError> {
    /// Entries per page.
    const PAGE: u32 = 100;
    let engine = crate::model::engine()?;
    engine
        .auth()
        .audit(berth_engine::auth::AuditQuery {
            before,
            limit: PAGE,
            since_ms: None,
        })
        .await
        .map_err(AppError::from)
}

/// "ok" for a 2xx or 3xx answer, "refused" for a 4xx, "failed" for a 5xx.
pub fn outcome(status: u16) -> &'static str {
    match status {
        200..=399 => "ok",
        400..=499 => "refused",
        _ => "failed",
    }
}

/// The page's address for a cursor.
fn href(before: Option<i64>) -> String {
    before.map_or_else(|| "/audit".to_string(), |b| format!("/audit?before={b}"))
}

#[component]
pub fn AuditLogPage() -> impl IntoView {
    let admin = use_caller().role() == Some(Role::Admin);
    view! {
        <Title text="Audit log · berth"/>
        <div class="page-head">
            <h1>"Audit log"</h1>
        </div>
        {if admin {
            view! { <AuditTable/> }.into_any()
        } else {
            view! {
                <p class="muted" data-testid="audit-needs-admin">
                    "The audit log is for admins."
                </p>
            }
                .into_any()
        }}
    }
}

#[component]
fn AuditTable() -> impl IntoView {
    let query = use_query_map();
    let before =
        Memo::new(move |_| query.with(|q| q.get_str("before").and_then(|b| b.parse().ok())));
    let changes = crate::live_state::use_live().changes;
    let follow = move || before.get().is_none().then(|| changes.get());
    let page = Resource::new(
        move || (before.get(), follow()),
        |(before, _)| read_audit(before),
    );
    view! {
        <Transition fallback=|| view! { <p class="muted">"Reading the audit log…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(p) if p.entries.is_empty() => {
                        view! { <p class="empty" data-testid="audit-empty">"Nothing recorded yet."</p> }
                            .into_any()
                    }
                    Ok(AuditPage { entries, next }) => {
                        let rows = entries
                            .into_iter()
                            .map(|e| view! { <AuditRow e/> })
                            .collect_view();
                        let columns = vec![
                            ("When", "col-when"),
                            ("Who", ""),
                            ("Action", ""),
                            ("Object", "col-object"),
                            ("Status", "num"),
                            ("From", "col-peer"),
                        ];
                        view! {
                            <DataTable class="audit" testid="audit-table" columns>{rows}</DataTable>
                            <nav class="pager" aria-label="Pages">
                                {before.get_untracked().map(|_| view! {
                                    <a class="btn" href=href(None) data-testid="audit-newest">"Newest"</a>
                                })}
                                {next.map(|n| view! {
                                    <a class="btn" href=href(Some(n)) data-testid="audit-older">"Older →"</a>
                                })}
                            </nav>
                        }
                            .into_any()
                    }
                    Err(e) => {
                        view! {
                            <p class="error" role="alert" data-testid="audit-error">
                                {format!("cannot read the audit log: {e}")}
                            </p>
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn AuditRow(e: AuditEntry) -> impl IntoView {
    let who = match e.actor.as_str() {
        "" => "anonymous".to_string(),
        actor => actor.to_string(),
    };
    let how = match &e.token_id {
        Some(id) => format!("{} {id}", e.actor_kind),
        None => e.actor_kind.clone(),
    };
    let result = outcome(e.status);
    view! {
        <tr data-testid="audit-row" data-action=e.action.clone() data-outcome=result>
            <td class="col-when small">{format_utc(e.time_ms)}</td>
            <td>
                <span class="audit-who">{who}</span>
                <span class="muted small audit-how">{format!(" {how}")}</span>
            </td>
            <td class="mono audit-action" title=e.action.clone()>{e.action.clone()}</td>
            <td class="mono col-object" title=e.object.clone().unwrap_or_default()>
                {e.object.clone().unwrap_or_else(|| "—".to_string())}
            </td>
            <td class=format!("num outcome outcome-{result}")>{e.status}</td>
            <td class="mono small col-peer">{e.peer.clone()}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_as_outcomes_and_pages_link_by_cursor() {
        assert_eq!(outcome(204), "ok");
        assert_eq!(outcome(303), "ok");
        assert_eq!(outcome(403), "refused");
        assert_eq!(outcome(500), "failed");
        assert_eq!(href(None), "/audit");
        assert_eq!(href(Some(9)), "/audit?before=9");
    }
}
