//! The inbox's opaque cursors (the list's pages, the changes feed, a thread's older events):
//! a version tag and `|`-separated fields, base64url. One reader for all three, so a cursor
//! of one kind is never taken for another and a garbled one is always a `BadCursor`.

use base64::Engine;
use chrono::{DateTime, Utc};
use uuid::Uuid;

pub(super) fn encode(tag: &str, fields: &[String]) -> String {
    let mut raw = tag.to_owned();
    for f in fields {
        raw.push('|');
        raw.push_str(f);
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// The fields of a cursor written with `tag`, exactly `count` of them; `None` for anything else.
pub(super) fn fields(cursor: &str, tag: &str, count: usize) -> Option<Vec<String>> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .ok()?;
    let raw = String::from_utf8(raw).ok()?;
    let mut parts = raw.split('|');
    if parts.next() != Some(tag) {
        return None;
    }
    let fields: Vec<String> = parts.map(str::to_owned).collect();
    (fields.len() == count).then_some(fields)
}

pub(super) fn time(at: DateTime<Utc>) -> String {
    at.timestamp_micros().to_string()
}

pub(super) fn parse_time(field: &str) -> Option<DateTime<Utc>> {
    field
        .parse::<i64>()
        .ok()
        .and_then(DateTime::from_timestamp_micros)
}

pub(super) fn parse_id(field: &str) -> Option<Uuid> {
    Uuid::parse_str(field).ok()
}
