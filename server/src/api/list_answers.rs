//! Serialized container lists, kept per query while the engine's [`ListStamp`] is unchanged.
//!
//! A list of 1000 containers is about 450 KB of JSON; writing it was most of the cost of a
//! `GET /api/v1/containers` once the engine kept its snapshot (serde's string escaping and
//! the allocations of cloning 1000 summaries). Dashboards and scripts ask the same few queries
//! again and again between changes, so the bytes are kept: a repeat costs one counter read.
//!
//! The stamp is read before the list is built, so a kept answer is never older than its stamp
//! (see [`berth_engine::Containers::container_list_stamp`]).

use axum::body::Bytes;
use berth_engine::ListStamp;
use std::sync::Mutex;

/// How many distinct queries are kept (each answer is one list's JSON).
const KEPT: usize = 8;

#[derive(Default)]
pub struct ListAnswers {
    kept: Mutex<Vec<Answer>>,
}

struct Answer {
    stamp: ListStamp,
    query: String,
    body: Bytes,
}

impl ListAnswers {
    /// The answer kept for `query` at `stamp`.
    pub fn get(&self, stamp: ListStamp, query: &str) -> Option<Bytes> {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.iter()
            .find(|a| a.stamp == stamp && a.query == query)
            .map(|a| a.body.clone())
    }

    /// Keeps an answer built after `stamp` was read; answers of older stamps go first, then
    /// the oldest kept.
    pub fn put(&self, stamp: ListStamp, query: &str, body: Bytes) {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.retain(|a| a.stamp == stamp && a.query != query);
        if kept.len() >= KEPT {
            kept.remove(0);
        }
        kept.push(Answer {
            stamp,
            query: query.to_string(),
            body,
        });
    }
}
