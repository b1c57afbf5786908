//! Reading Instagram's JSON the way it actually arrives: ids as numbers or strings (and
//! larger than 2^53), lists as comma strings or arrays, times as `2026-11-20T10:15:30+0000`.

use super::GraphError;
use chrono::{DateTime, Utc};
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;

/// Integer literals with more digits than this are turned into strings before parsing: a
/// double holds 15 significant digits exactly, and a 20-digit id may not fit a `u64` either.
const MAX_EXACT_DIGITS: usize = 15;

/// Parses a successful answer. Errors name the missing or mistyped field but never quote a
/// value from the body, which may hold a fresh access token.
pub(super) fn decode<T: DeserializeOwned>(endpoint: &str, body: &str) -> Result<T, GraphError> {
    serde_json::from_str(&quote_long_integers(body)).map_err(|e| GraphError::UnexpectedResponse {
        endpoint: endpoint.to_owned(),
        detail: without_quoted_values(&e.to_string()),
    })
}

/// Whether a 2xx body is in fact Instagram's `{"error":{…}}`.
pub(super) fn has_error_object(body: &str) -> bool {
    body.trim_start().starts_with('{')
        && serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(body)
            .is_ok_and(|map| map.get("error").is_some_and(serde_json::Value::is_object))
}

fn without_quoted_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut inside = false;
    for c in message.chars() {
        if c == '"' {
            if !inside {
                out.push_str("\"…\"");
            }
            inside = !inside;
        } else if !inside {
            out.push(c);
        }
    }
    out
}

/// Wraps every integer literal longer than [`MAX_EXACT_DIGITS`] digits in quotes, outside
/// strings, so that ids keep every digit. Other JSON is left byte for byte.
pub(super) fn quote_long_integers(json: &str) -> Cow<'_, str> {
    let bytes = json.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        match b {
            b'"' => {
                in_string = true;
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                i += 1;
                while i < bytes.len()
                    && matches!(bytes[i], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
                {
                    i += 1;
                }
                let literal = &json[start..i];
                let digits = literal.trim_start_matches('-');
                if digits.len() > MAX_EXACT_DIGITS && digits.bytes().all(|d| d.is_ascii_digit()) {
                    let out = out.get_or_insert_with(|| String::with_capacity(json.len() + 16));
                    out.push_str(&json[copied..start]);
                    out.push('"');
                    out.push_str(literal);
                    out.push('"');
                    copied = i;
                }
            }
            _ => i += 1,
        }
    }
    match out {
        None => Cow::Borrowed(json),
        Some(mut out) => {
            out.push_str(&json[copied..]);
            Cow::Owned(out)
        }
    }
}

/// An id given as a JSON number or string, kept as the exact digits.
pub(super) fn id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    struct IdVisitor;
    impl<'de> Visitor<'de> for IdVisitor {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an id as a string or an integer")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
            let v = v.trim();
            if v.is_empty() {
                return Err(E::custom("empty id"));
            }
            Ok(v.to_owned())
        }
    }
    d.deserialize_any(IdVisitor)
}

/// Like [`id`], for an optional field.
pub(super) fn optional_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    struct Wrapped(#[serde(deserialize_with = "id")] String);
    Ok(Option::<Wrapped>::deserialize(d)?.map(|w| w.0))
}

/// An integer given as a number or a numeric string (error codes).
pub(super) fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Lenient {
        Int(i64),
        Float(f64),
        Text(String),
    }
    Ok(match Option::<Lenient>::deserialize(d)? {
        Some(Lenient::Int(v)) => Some(v),
        Some(Lenient::Float(v)) if v.fract() == 0.0 && v.abs() < 9.0e15 => Some(v as i64),
        Some(Lenient::Text(v)) => v.trim().parse().ok(),
        _ => None,
    })
}

/// Seconds given as a number or a numeric string (`expires_in`).
pub(super) fn seconds<'de, D: Deserializer<'de>>(d: D) -> Result<std::time::Duration, D::Error> {
    match lenient_i64(d)? {
        Some(v) if v >= 0 => Ok(std::time::Duration::from_secs(v as u64)),
        _ => Err(de::Error::custom("expected a number of seconds")),
    }
}

/// A list given as an array of strings or one comma-separated string.
pub(super) fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum List {
        Many(Vec<String>),
        Joined(String),
    }
    let items = match Option::<List>::deserialize(d)? {
        None => Vec::new(),
        Some(List::Many(items)) => items,
        Some(List::Joined(joined)) => joined.split(',').map(str::to_owned).collect(),
    };
    Ok(items
        .into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect())
}

/// Graph API time: `2026-11-20T10:15:30+0000`, or RFC 3339.
pub(super) fn graph_time<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    let text = String::deserialize(d)?;
    parse_graph_time(&text)
        .ok_or_else(|| de::Error::custom(format!("not a Graph API time: {text}")))
}

pub(super) fn parse_graph_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%z")
        .or_else(|_| DateTime::parse_from_rfc3339(text))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_integers_become_strings_and_nothing_else_changes() {
        let json = r#"{"user_id": 98765432109876543210, "small": 123, "neg": -12345678901234567, "f": 1.5e10, "s": "12345678901234567890", "esc": "a\"17841400000000000123"}"#;
        let quoted = quote_long_integers(json);
        assert_eq!(
            quoted,
            r#"{"user_id": "98765432109876543210", "small": 123, "neg": "-12345678901234567", "f": 1.5e10, "s": "12345678901234567890", "esc": "a\"17841400000000000123"}"#
        );
        assert!(matches!(
            quote_long_integers(r#"{"a":1}"#),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn graph_times_parse() {
        let t = parse_graph_time("2026-11-20T10:15:30+0000").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-20T10:15:30+00:00");
        let t = parse_graph_time("2026-11-20T12:15:30+0200").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-20T10:15:30+00:00");
        assert!(parse_graph_time("2026-11-20T10:15:30Z").is_some());
        assert!(parse_graph_time("yesterday").is_none());
    }

    #[test]
    fn decode_errors_do_not_quote_values() {
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct T {
            n: u32,
        }
        let err = decode::<T>("GET /x", r#"{"n":"SECRET-TOKEN"}"#)
            .unwrap_err()
            .to_string();
        assert!(!err.contains("SECRET-TOKEN"), "{err}");
        assert!(err.contains("invalid type"), "{err}");
    }

    #[test]
    fn error_objects_in_2xx_bodies_are_noticed() {
        assert!(has_error_object(r#"{"error":{"code":2}}"#));
        assert!(!has_error_object(r#"{"success":true}"#));
        assert!(!has_error_object(r#"{"error":null}"#));
        assert!(!has_error_object("ok"));
    }
}
