//! Parsing of Instagram webhook POST bodies into typed events.
//!
//! Body shape (Instagram API with Instagram Login):
//! `{"object":"instagram","entry":[{"id":"<account>","time":<ms>,"messaging":[…],"standby":[…],"changes":[…]}]}`.
//!
//! * `messaging[]` and `standby[]` items are `{"sender":{"id"},"recipient":{"id"},"timestamp",
//!   <one of message | message_edit | reaction | read | postback | referral>}`.
//! * `changes[]` items (the dashboard "Test" button) are `{"field","value"}` where `value` is
//!   shaped like a `messaging[]` item; only the messaging fields are parsed.
//! * Only a body that is not JSON, not an object, whose `object` is not `"instagram"` (Messenger
//!   sends `"page"`), or that has no `entry` array is an error. Anything wrong with a single event
//!   (unknown kind, message without `mid`, missing sender, …) puts that event into
//!   [`Entry::skipped`] with a reason; the rest of the batch is still delivered.
//!
//! Ids (entry id, sender, recipient) are kept as strings. Meta sends them as JSON strings in
//! practice; a JSON integer is accepted and converted exactly when it fits in u64/i64. An integer
//! beyond u64 (serde_json would already have rounded it to f64) is refused: the event is skipped
//! rather than routed with a wrong id.
//!
//! Timestamps may be numbers or numeric strings, seconds or milliseconds: a value below 10^11 is
//! taken as seconds and converted to ms. An event without a usable timestamp falls back to the
//! entry's `time`; with neither it is skipped.
//!
//! Performance: the body is parsed once into a `serde_json::Value` tree which is then taken apart
//! by value — raw parts kept in the output (attachments, referrals, skipped events) are moved, not
//! cloned or re-serialised.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Timestamps below this are seconds, not milliseconds (10^11 ms is 1973; 10^11 s is year 5138).
const SECONDS_THRESHOLD: i64 = 100_000_000_000;

/// `changes[].field` values parsed into events.
pub const CHANGE_FIELDS: &[&str] = &[
    "messages",
    "message_reactions",
    "messaging_postbacks",
    "messaging_seen",
    "message_edit",
];

#[derive(Debug, thiserror::Error)]
pub enum EventParseError {
    #[error("webhook body is not valid JSON: {0}")]
    InvalidJson(#[from] serde_json::Error),
    #[error("webhook body is not a JSON object")]
    NotAnObject,
    /// `object` missing or not `"instagram"`; carries what was found (empty when missing).
    #[error("unsupported webhook object {0:?} (only \"instagram\" is handled)")]
    UnsupportedObject(String),
    #[error("webhook body has no `entry` array")]
    MissingEntries,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookBatch {
    pub entries: Vec<Entry>,
}

impl WebhookBatch {
    /// Total parsed events over all entries.
    pub fn event_count(&self) -> usize {
        self.entries.iter().map(|e| e.events.len()).sum()
    }

    /// Total skipped items over all entries.
    pub fn skipped_count(&self) -> usize {
        self.entries.iter().map(|e| e.skipped.len()).sum()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// `entry[].id`: the professional account the events belong to (route by it). Empty when the
    /// entry had no usable id — then all its items are in `skipped`.
    pub account_id: String,
    /// `entry[].time`, normalised to ms.
    pub time_ms: Option<i64>,
    pub events: Vec<InstagramEvent>,
    /// Items that could not be parsed or are of an unknown kind: log and ignore.
    pub skipped: Vec<SkippedEvent>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedEvent {
    pub reason: String,
    /// The item as received (the whole `messaging[]`/`standby[]`/`changes[]` element).
    pub raw: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventSource {
    Messaging,
    Standby,
    Changes,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstagramEvent {
    pub sender_id: String,
    pub recipient_id: String,
    pub timestamp_ms: i64,
    pub source: EventSource,
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum EventKind {
    /// A new message from the customer (text and/or attachments, quick reply, reply, referral).
    Message(MessageEvent),
    /// `message.is_echo`: sent by the account — by us, or by a human in the Instagram app.
    Echo(MessageEvent),
    /// `message.is_deleted`: the customer unsent message `mid`.
    Deleted { mid: String },
    /// `message_edit`.
    Edit {
        mid: String,
        text: Option<String>,
        num_edit: Option<i64>,
    },
    /// `read` (by `mid`, or the older `watermark`).
    Read {
        mid: Option<String>,
        watermark: Option<i64>,
    },
    /// `reaction`: `action` is `react` or `unreact` (as given).
    Reaction {
        mid: String,
        action: String,
        reaction: Option<String>,
        emoji: Option<String>,
    },
    /// `postback` (a button tap).
    Postback {
        mid: Option<String>,
        title: Option<String>,
        payload: Option<String>,
    },
    /// `referral` without a message (ig.me link, ad, …).
    Referral { referral: Value },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageEvent {
    pub mid: String,
    pub text: Option<String>,
    pub attachments: Vec<Attachment>,
    pub quick_reply_payload: Option<String>,
    /// `reply_to.mid`: the message this one replies to.
    pub reply_to_mid: Option<String>,
    /// `reply_to.story`: a reply to one of the account's stories.
    pub reply_to_story: Option<StoryRef>,
    /// `message.referral`, or the item-level `referral` sent alongside the message.
    pub referral: Option<Value>,
    /// `message.is_unsupported`: content the API cannot deliver (the customer sees it, we don't).
    pub is_unsupported: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    /// `type` as given (image, video, audio, file, share, story_mention, ig_reel, reel, …);
    /// `"unknown"` when absent.
    pub kind: String,
    /// `payload.url` (Meta's CDN URL; keep it, don't copy the media).
    pub url: Option<String>,
    /// The attachment object as received.
    pub raw: Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoryRef {
    pub id: Option<String>,
    pub url: Option<String>,
}

/// Parses a webhook POST body (already signature-checked).
pub fn parse_webhook(body: &[u8]) -> Result<WebhookBatch, EventParseError> {
    let root: Value = serde_json::from_slice(body)?;
    let Value::Object(mut root) = root else {
        return Err(EventParseError::NotAnObject);
    };
    match root.get("object") {
        Some(Value::String(s)) if s == "instagram" => {}
        Some(Value::String(s)) => return Err(EventParseError::UnsupportedObject(s.clone())),
        Some(other) => return Err(EventParseError::UnsupportedObject(other.to_string())),
        None => return Err(EventParseError::UnsupportedObject(String::new())),
    }
    let Some(Value::Array(entries)) = root.remove("entry") else {
        return Err(EventParseError::MissingEntries);
    };
    Ok(WebhookBatch {
        entries: entries.into_iter().map(parse_entry).collect(),
    })
}

fn skip(reason: impl Into<String>, raw: Value) -> SkippedEvent {
    SkippedEvent {
        reason: reason.into(),
        raw,
    }
}

fn parse_entry(entry: Value) -> Entry {
    let mut out = Entry {
        account_id: String::new(),
        time_ms: None,
        events: Vec::new(),
        skipped: Vec::new(),
    };
    let mut map = match entry {
        Value::Object(m) => m,
        other => {
            out.skipped.push(skip("entry is not a JSON object", other));
            return out;
        }
    };
    out.time_ms = map.get("time").and_then(timestamp_ms);
    let id_error = match map.get("id").map(id_string) {
        Some(Ok(id)) => {
            out.account_id = id;
            None
        }
        Some(Err(e)) => Some(format!("entry id: {e}")),
        None => Some("entry has no id".to_owned()),
    };

    for (key, source) in [
        ("messaging", EventSource::Messaging),
        ("standby", EventSource::Standby),
    ] {
        match map.remove(key) {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                out.events.reserve(items.len());
                for item in items {
                    if let Some(e) = &id_error {
                        out.skipped.push(skip(e.clone(), item));
                        continue;
                    }
                    match parse_item(item, source, out.time_ms) {
                        Ok(ev) => out.events.push(ev),
                        Err(s) => out.skipped.push(s),
                    }
                }
            }
            Some(other) => out
                .skipped
                .push(skip(format!("entry.{key} is not an array"), other)),
        }
    }

    match map.remove("changes") {
        None | Some(Value::Null) => {}
        Some(Value::Array(changes)) => {
            for change in changes {
                if let Some(e) = &id_error {
                    out.skipped.push(skip(e.clone(), change));
                    continue;
                }
                match parse_change(change, out.time_ms) {
                    Ok(ev) => out.events.push(ev),
                    Err(s) => out.skipped.push(s),
                }
            }
        }
        Some(other) => out
            .skipped
            .push(skip("entry.changes is not an array", other)),
    }
    out
}

fn parse_change(change: Value, fallback_ms: Option<i64>) -> Result<InstagramEvent, SkippedEvent> {
    let Value::Object(mut change) = change else {
        return Err(skip("change is not a JSON object", change));
    };
    let field = match change.get("field") {
        Some(Value::String(f)) => f.as_str(),
        _ => return Err(skip("change has no field", Value::Object(change))),
    };
    if !CHANGE_FIELDS.contains(&field) {
        let reason = format!("unsupported change field {field:?}");
        return Err(skip(reason, Value::Object(change)));
    }
    match change.remove("value") {
        Some(Value::Object(mut value)) => {
            match build_event(&mut value, EventSource::Changes, fallback_ms) {
                Ok(ev) => Ok(ev),
                Err(reason) => {
                    change.insert("value".to_owned(), Value::Object(value));
                    Err(skip(reason, Value::Object(change)))
                }
            }
        }
        other => {
            if let Some(v) = other {
                change.insert("value".to_owned(), v);
            }
            Err(skip(
                "change value is not a JSON object",
                Value::Object(change),
            ))
        }
    }
}

fn parse_item(
    item: Value,
    source: EventSource,
    fallback_ms: Option<i64>,
) -> Result<InstagramEvent, SkippedEvent> {
    let Value::Object(mut map) = item else {
        return Err(skip("event is not a JSON object", item));
    };
    build_event(&mut map, source, fallback_ms).map_err(|reason| skip(reason, Value::Object(map)))
}

/// Builds one event from a `messaging[]`-shaped object. On `Err` the map is left as received
/// (every fallible check happens before anything is moved out of it).
fn build_event(
    map: &mut Map<String, Value>,
    source: EventSource,
    fallback_ms: Option<i64>,
) -> Result<InstagramEvent, String> {
    let sender_id = party_id(map, "sender")?;
    let recipient_id = party_id(map, "recipient")?;
    let timestamp_ms = match map.get("timestamp").and_then(timestamp_ms).or(fallback_ms) {
        Some(t) => t,
        None => return Err("event has no usable timestamp".to_owned()),
    };
    let kind = build_kind(map)?;
    Ok(InstagramEvent {
        sender_id,
        recipient_id,
        timestamp_ms,
        source,
        kind,
    })
}

fn party_id(map: &Map<String, Value>, key: &str) -> Result<String, String> {
    match map.get(key).and_then(|p| p.get("id")) {
        Some(v) => id_string(v).map_err(|e| format!("{key}.id: {e}")),
        None => Err(format!("event has no {key}.id")),
    }
}

fn build_kind(map: &mut Map<String, Value>) -> Result<EventKind, String> {
    if let Some(msg) = map.get("message") {
        let Value::Object(msg) = msg else {
            return Err("message is not a JSON object".to_owned());
        };
        let mid = required_str(msg, "mid", "message")?;
        if flag(msg, "is_deleted") {
            return Ok(EventKind::Deleted { mid });
        }
        let is_echo = flag(msg, "is_echo");
        if let Some(a) = msg.get("attachments") {
            if !matches!(a, Value::Array(_) | Value::Null) {
                return Err("message.attachments is not an array".to_owned());
            }
        }
        // Checks done: from here on values are moved out.
        let item_referral = map.remove("referral").filter(|r| !r.is_null());
        let Some(Value::Object(mut msg)) = map.remove("message") else {
            unreachable!("checked above")
        };
        let ev = message_event(mid, &mut msg, item_referral);
        return Ok(if is_echo {
            EventKind::Echo(ev)
        } else {
            EventKind::Message(ev)
        });
    }

    if let Some(edit) = map.get("message_edit") {
        let edit = edit
            .as_object()
            .ok_or("message_edit is not a JSON object")?;
        return Ok(EventKind::Edit {
            mid: required_str(edit, "mid", "message_edit")?,
            text: opt_str(edit, "text"),
            num_edit: edit.get("num_edit").and_then(int),
        });
    }

    if let Some(r) = map.get("reaction") {
        let r = r.as_object().ok_or("reaction is not a JSON object")?;
        return Ok(EventKind::Reaction {
            mid: required_str(r, "mid", "reaction")?,
            action: required_str(r, "action", "reaction")?,
            reaction: opt_str(r, "reaction"),
            emoji: opt_str(r, "emoji"),
        });
    }

    if let Some(r) = map.get("read") {
        let r = r.as_object().ok_or("read is not a JSON object")?;
        return Ok(EventKind::Read {
            mid: opt_str(r, "mid"),
            watermark: r.get("watermark").and_then(int),
        });
    }

    if let Some(p) = map.get("postback") {
        let p = p.as_object().ok_or("postback is not a JSON object")?;
        return Ok(EventKind::Postback {
            mid: opt_str(p, "mid"),
            title: opt_str(p, "title"),
            payload: opt_str(p, "payload"),
        });
    }

    if matches!(map.get("referral"), Some(r) if !r.is_null()) {
        let referral = map.remove("referral").expect("checked above");
        return Ok(EventKind::Referral { referral });
    }

    let mut keys: Vec<&str> = map
        .keys()
        .map(String::as_str)
        .filter(|k| !matches!(*k, "sender" | "recipient" | "timestamp"))
        .collect();
    keys.sort_unstable();
    Err(format!("unknown event kind (keys: {})", keys.join(", ")))
}

/// Infallible: everything that can fail was checked by the caller.
fn message_event(
    mid: String,
    msg: &mut Map<String, Value>,
    item_referral: Option<Value>,
) -> MessageEvent {
    let text = opt_str(msg, "text");
    let quick_reply_payload = msg
        .get("quick_reply")
        .and_then(|q| q.get("payload"))
        .and_then(str_value);
    let (reply_to_mid, reply_to_story) = match msg.get("reply_to") {
        Some(Value::Object(r)) => {
            let story = match r.get("story") {
                Some(Value::Object(s)) => Some(StoryRef {
                    id: opt_str_or_int(s, "id"),
                    url: opt_str(s, "url"),
                }),
                _ => None,
            };
            (opt_str(r, "mid"), story)
        }
        _ => (None, None),
    };
    let is_unsupported = flag(msg, "is_unsupported");
    let referral = msg
        .remove("referral")
        .filter(|r| !r.is_null())
        .or(item_referral);
    let attachments = match msg.remove("attachments") {
        Some(Value::Array(items)) => items.into_iter().map(attachment).collect(),
        _ => Vec::new(),
    };
    MessageEvent {
        mid,
        text,
        attachments,
        quick_reply_payload,
        reply_to_mid,
        reply_to_story,
        referral,
        is_unsupported,
    }
}

fn attachment(raw: Value) -> Attachment {
    let kind = raw
        .get("type")
        .and_then(str_value)
        .unwrap_or_else(|| "unknown".to_owned());
    let url = raw
        .get("payload")
        .and_then(|p| p.get("url"))
        .and_then(str_value);
    Attachment { kind, url, raw }
}

fn flag(map: &Map<String, Value>, key: &str) -> bool {
    matches!(map.get(key), Some(Value::Bool(true)))
}

fn str_value(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn opt_str(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.get(key).and_then(str_value)
}

fn opt_str_or_int(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.get(key).and_then(|v| id_string(v).ok())
}

fn required_str(map: &Map<String, Value>, key: &str, what: &str) -> Result<String, String> {
    match map.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Value::Null) | None => Err(format!("{what} has no {key}")),
        Some(_) => Err(format!("{what}.{key} is not a non-empty string")),
    }
}

/// An id as an exact string: a non-empty JSON string, or a JSON integer that fits u64/i64.
fn id_string(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
        Value::String(_) => Err("empty id".to_owned()),
        Value::Number(n) if n.is_u64() || n.is_i64() => Ok(n.to_string()),
        Value::Number(n) => Err(format!(
            "id {n} is not an exact integer (too large for u64; Meta sends ids as strings)"
        )),
        other => Err(format!("id is not a string or integer: {other}")),
    }
}

/// An integer from a JSON integer or a numeric string.
fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A timestamp in ms from a number or numeric string, seconds or ms (< 10^11 means seconds).
fn timestamp_ms(v: &Value) -> Option<i64> {
    let raw: i64 = match v {
        Value::Number(n) => match n.as_i64() {
            Some(i) => i,
            None => {
                let f = n.as_f64()?;
                if !f.is_finite() || f < 0.0 || f >= i64::MAX as f64 {
                    return None;
                }
                f as i64
            }
        },
        Value::String(s) => {
            let s = s.trim();
            match s.parse::<i64>() {
                Ok(i) => i,
                Err(_) => {
                    let f: f64 = s.parse().ok()?;
                    if !f.is_finite() || f < 0.0 || f >= i64::MAX as f64 {
                        return None;
                    }
                    f as i64
                }
            }
        }
        _ => return None,
    };
    if raw < 0 {
        None
    } else if raw < SECONDS_THRESHOLD {
        raw.checked_mul(1000)
    } else {
        Some(raw)
    }
}

#[cfg(test)]
mod tests;
