//! Fuzzing of the parsers of what clients send: every JSON request body and WebSocket message
//! of the API and every query string, as the daemon parses them (serde_json from bytes,
//! serde_urlencoded as axum's `Query`). Inputs are the kept corpus (`tests/corpus/*.txt`, one
//! input a line: hostile values, wrong types, unknown and doubled fields, bad escapes, deep
//! nesting) and proptest's mutations of it (bytes inserted, replaced, removed, spliced,
//! invalid UTF-8 included). Each input must parse or fail with an error, never panic, and what
//! parses must serialize and parse again to the same thing. A failing case proptest finds is
//! written to `proptest-regressions/` beside this file: keep it in the corpus.

use berth_wire as w;
use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;

const JSON_CORPUS: &str = include_str!("corpus/json.txt");
const QUERY_CORPUS: &str = include_str!("corpus/query.txt");

fn corpus(text: &str) -> Vec<Vec<u8>> {
    text.lines().map(|l| l.as_bytes().to_vec()).collect()
}

/// Parses `input` as `T`; what parses must come back the same through its JSON.
fn json_round_trip<T: DeserializeOwned + Serialize>(input: &[u8]) -> Result<(), String> {
    let Ok(value) = serde_json::from_slice::<T>(input) else {
        return Ok(());
    };
    let once = serde_json::to_value(&value).map_err(|e| format!("does not serialize: {e}"))?;
    let again: T = serde_json::from_value(once.clone())
        .map_err(|e| format!("its own JSON {once} does not parse: {e}"))?;
    let twice = serde_json::to_value(&again).map_err(|e| e.to_string())?;
    if once != twice {
        return Err(format!("{once} came back as {twice}"));
    }
    Ok(())
}

/// Parses `input` as a query of `T`; what parses must come back the same through its query.
fn query_round_trip<T: DeserializeOwned + Serialize>(input: &[u8]) -> Result<(), String> {
    let Ok(value) = serde_urlencoded::from_bytes::<T>(input) else {
        return Ok(());
    };
    let once = serde_urlencoded::to_string(&value).map_err(|e| format!("does not encode: {e}"))?;
    let again: T = serde_urlencoded::from_str(&once)
        .map_err(|e| format!("its own query {once:?} does not parse: {e}"))?;
    let twice = serde_urlencoded::to_string(&again).map_err(|e| e.to_string())?;
    if once != twice {
        return Err(format!("{once:?} came back as {twice:?}"));
    }
    Ok(())
}

/// A parser's name and its check.
type Check = (&'static str, fn(&[u8]) -> Result<(), String>);

/// Every JSON body and message the daemon parses.
fn every_json_parser(input: &[u8]) -> Result<(), String> {
    let checks: [Check; 15] = [
        (
            "CreateOptions",
            json_round_trip::<w::container::CreateOptions>,
        ),
        ("ClientMsg", json_round_trip::<w::ws::ClientMsg>),
        (
            "auth::LoginRequest",
            json_round_trip::<w::auth::LoginRequest>,
        ),
        ("CreateUser", json_round_trip::<w::auth::CreateUser>),
        ("SetPassword", json_round_trip::<w::auth::SetPassword>),
        ("SetRole", json_round_trip::<w::auth::SetRole>),
        ("CreateToken", json_round_trip::<w::auth::CreateToken>),
        (
            "CreateBoardLink",
            json_round_trip::<w::auth::CreateBoardLink>,
        ),
        (
            "registry::LoginRequest",
            json_round_trip::<w::registry::LoginRequest>,
        ),
        (
            "LogoutRequest",
            json_round_trip::<w::registry::LogoutRequest>,
        ),
        ("ContainerRef", json_round_trip::<w::network::ContainerRef>),
        (
            "NetworkCreate",
            json_round_trip::<w::network::NetworkCreate>,
        ),
        ("CreateVolume", json_round_trip::<w::volume::CreateVolume>),
        ("ExecConfig", json_round_trip::<w::exec::ExecConfig>),
        ("StartBody", json_round_trip::<w::exec::StartBody>),
    ];
    for (name, check) in checks {
        check(input).map_err(|e| format!("{name}: {e}"))?;
    }
    Ok(())
}

/// Every query string the daemon parses.
fn every_query_parser(input: &[u8]) -> Result<(), String> {
    let checks: [Check; 23] = [
        (
            "container ListQuery",
            query_round_trip::<w::container::ListQuery>,
        ),
        ("StopQuery", query_round_trip::<w::container::StopQuery>),
        ("KillQuery", query_round_trip::<w::container::KillQuery>),
        (
            "container RemoveQuery",
            query_round_trip::<w::container::RemoveQuery>,
        ),
        ("RenameQuery", query_round_trip::<w::container::RenameQuery>),
        ("AttachQuery", query_round_trip::<w::container::AttachQuery>),
        ("ResizeQuery", query_round_trip::<w::container::ResizeQuery>),
        ("LogsQuery", query_round_trip::<w::container::LogsQuery>),
        ("EventsQuery", query_round_trip::<w::event::EventsQuery>),
        ("ImportQuery", query_round_trip::<w::image::ImportQuery>),
        ("TagQuery", query_round_trip::<w::image::TagQuery>),
        (
            "image RemoveQuery",
            query_round_trip::<w::image::RemoveQuery>,
        ),
        ("image PruneQuery", query_round_trip::<w::image::PruneQuery>),
        ("SaveQuery", query_round_trip::<w::image::SaveQuery>),
        ("PullQuery", query_round_trip::<w::image::PullQuery>),
        ("PushQuery", query_round_trip::<w::image::PushQuery>),
        (
            "system PruneQuery",
            query_round_trip::<w::system::PruneQuery>,
        ),
        (
            "VolumeFilters",
            query_round_trip::<w::volume::VolumeFilters>,
        ),
        (
            "volume RemoveQuery",
            query_round_trip::<w::volume::RemoveQuery>,
        ),
        (
            "volume PruneQuery",
            query_round_trip::<w::volume::PruneQuery>,
        ),
        ("PageQuery", query_round_trip::<w::registry::PageQuery>),
        (
            "AuditPageQuery",
            query_round_trip::<w::auth::AuditPageQuery>,
        ),
        ("FiltersQuery", query_round_trip::<w::filters::FiltersQuery>),
    ];
    for (name, check) in checks {
        check(input).map_err(|e| format!("{name}: {e}"))?;
    }
    Ok(())
}

#[test]
fn the_kept_corpus_parses_or_fails_cleanly() {
    let json = corpus(JSON_CORPUS);
    let queries = corpus(QUERY_CORPUS);
    assert!(
        json.len() >= 30 && queries.len() >= 25,
        "the corpus is missing"
    );
    for input in &json {
        let text = String::from_utf8_lossy(input);
        every_json_parser(input).unwrap_or_else(|e| panic!("{text}: {e}"));
    }
    for input in &queries {
        let text = String::from_utf8_lossy(input);
        every_query_parser(input).unwrap_or_else(|e| panic!("{text}: {e}"));
    }
    // Some corpus entries are valid: the parsers are really reached.
    let create: w::container::CreateOptions =
        serde_json::from_slice(&json[0]).expect("the first entry is a valid create body");
    assert_eq!(create.image, "busybox");
    let list: w::container::ListQuery =
        serde_urlencoded::from_bytes(&queries[0]).expect("the first query is valid");
    assert_eq!(list.limit, Some(5));
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    for depth in [200, 10_000, 100_000] {
        let arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let objects = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
        every_json_parser(arrays.as_bytes()).expect("arrays");
        every_json_parser(objects.as_bytes()).expect("objects");
        let field = format!("{{\"image\":\"b\",\"labels\":{objects}}}");
        assert!(serde_json::from_str::<w::container::CreateOptions>(&field).is_err());
    }
}

/// A corpus entry changed by a few edits: (kind, position, byte).
fn mutate(mut input: Vec<u8>, edits: &[(u8, usize, u8)], other: &[u8]) -> Vec<u8> {
    for &(kind, at, byte) in edits {
        let at = if input.is_empty() {
            0
        } else {
            at % (input.len() + 1)
        };
        match kind % 5 {
            0 => input.insert(at, byte),
            1 if at < input.len() => input[at] = byte,
            2 if at < input.len() => {
                input.remove(at);
            }
            3 => input.truncate(at),
            _ => {
                // Splice: the rest of another entry from the same place.
                let from = at.min(other.len());
                input.truncate(at);
                input.extend_from_slice(&other[from..]);
            }
        }
    }
    input
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(4096)
    ))]

    #[test]
    fn mutated_json_bodies_parse_or_fail_cleanly(
        pick in any::<usize>(),
        splice in any::<usize>(),
        edits in prop::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 0..8),
    ) {
        let entries = corpus(JSON_CORPUS);
        let input = mutate(entries[pick % entries.len()].clone(), &edits, &entries[splice % entries.len()]);
        prop_assert!(every_json_parser(&input).is_ok(), "{:?}: {:?}", String::from_utf8_lossy(&input), every_json_parser(&input));
    }

    #[test]
    fn mutated_queries_parse_or_fail_cleanly(
        pick in any::<usize>(),
        splice in any::<usize>(),
        edits in prop::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 0..8),
    ) {
        let entries = corpus(QUERY_CORPUS);
        let input = mutate(entries[pick % entries.len()].clone(), &edits, &entries[splice % entries.len()]);
        prop_assert!(every_query_parser(&input).is_ok(), "{:?}: {:?}", String::from_utf8_lossy(&input), every_query_parser(&input));
    }
}
