//! Decoding `POST /<FunctionName>` bodies (`{"Data": {...}, "Metadata": {...}}`) and encoding
//! `{"Outputs", "Logs", "ReturnValue"}`.
//!
//! The host is inconsistent in ways its source (not its docs) explains: a Service Bus body
//! arrives as a JSON object, as a JSON string holding JSON (sometimes encoded twice), or as
//! base64; metadata scalars are stringified, strings sometimes with their JSON quotes still
//! on (`"MessageId":"\"abc\""`); `ScheduleStatus` may be null. Everything here is defensive.

use base64::Engine;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Deserialize)]
pub struct Invocation {
    #[serde(rename = "Data", default)]
    pub data: Map<String, Value>,
    #[serde(rename = "Metadata", default)]
    pub metadata: Map<String, Value>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum InvocationError {
    #[error(
        "the invocation body is not JSON of the form {{\"Data\":{{…}},\"Metadata\":{{…}}}}: {0}"
    )]
    Malformed(String),
    #[error("the invocation has no binding named {0:?} in Data")]
    MissingBinding(String),
    #[error("the queue message body is not a JSON object (tried JSON, JSON in a string, and base64): {0}")]
    UndecodableBody(String),
}

impl Invocation {
    pub fn parse(body: &[u8]) -> Result<Self, InvocationError> {
        let value: Value =
            serde_json::from_slice(body).map_err(|e| InvocationError::Malformed(e.to_string()))?;
        if !value.is_object() {
            return Err(InvocationError::Malformed(
                "the envelope is not a JSON object".into(),
            ));
        }
        serde_json::from_value(value).map_err(|e| InvocationError::Malformed(e.to_string()))
    }

    fn binding(&self, name: &str) -> Result<&Value, InvocationError> {
        self.data
            .get(name)
            .ok_or_else(|| InvocationError::MissingBinding(name.to_owned()))
    }

    /// A metadata scalar as text, whatever way the host stringified it.
    pub fn metadata_str(&self, key: &str) -> Option<String> {
        self.metadata.get(key).and_then(scalar_text)
    }

    pub fn service_bus_message(&self, binding: &str) -> Result<ServiceBusMessage, InvocationError> {
        let body = decode_json_object(self.binding(binding)?)?;
        Ok(ServiceBusMessage {
            body,
            message_id: self.metadata_str("MessageId"),
            delivery_count: self
                .metadata_str("DeliveryCount")
                .and_then(|s| s.parse().ok()),
            enqueued_time_utc: self
                .metadata_str("EnqueuedTimeUtc")
                .and_then(|s| parse_host_time(&s)),
        })
    }

    pub fn timer(&self, binding: &str) -> Result<TimerInfo, InvocationError> {
        let value = decode_json_object(self.binding(binding)?)?;
        serde_json::from_value(value)
            .map_err(|e| InvocationError::Malformed(format!("timer binding: {e}")))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceBusMessage {
    pub body: Value,
    pub message_id: Option<String>,
    /// 1 on first delivery.
    pub delivery_count: Option<i32>,
    pub enqueued_time_utc: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct TimerInfo {
    #[serde(rename = "IsPastDue", default)]
    pub is_past_due: bool,
    #[serde(rename = "ScheduleStatus", default)]
    pub schedule_status: Option<ScheduleStatus>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ScheduleStatus {
    #[serde(rename = "Last")]
    pub last: Option<String>,
    #[serde(rename = "Next")]
    pub next: Option<String>,
    #[serde(rename = "LastUpdated")]
    pub last_updated: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct InvocationResponse {
    #[serde(rename = "Outputs")]
    pub outputs: Map<String, Value>,
    #[serde(rename = "Logs")]
    pub logs: Vec<String>,
    #[serde(rename = "ReturnValue")]
    pub return_value: Value,
}

impl InvocationResponse {
    pub fn with_logs(logs: Vec<String>) -> Self {
        InvocationResponse {
            outputs: Map::new(),
            logs,
            return_value: Value::Null,
        }
    }
}

/// Unwraps a value into a JSON object: as is, from a JSON string (up to three layers of
/// encoding), or from base64 of either.
pub fn decode_json_object(value: &Value) -> Result<Value, InvocationError> {
    fn go(value: Value, depth: u8) -> Option<Value> {
        if depth > 4 {
            return None;
        }
        match value {
            Value::Object(_) => Some(value),
            Value::String(s) => {
                let trimmed = s.trim();
                if let Ok(inner) = serde_json::from_str::<Value>(trimmed) {
                    if let Some(found) = go(inner, depth + 1) {
                        return Some(found);
                    }
                }
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(trimmed)
                    .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(trimmed))
                    .ok()?;
                let text = String::from_utf8(bytes).ok()?;
                go(Value::String(text), depth + 1)
            }
            _ => None,
        }
    }
    go(value.clone(), 0).ok_or_else(|| {
        let shown: String = value.to_string().chars().take(120).collect();
        InvocationError::UndecodableBody(shown)
    })
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => {
            // "\"abc\"": the JSON encoding of a string, left in place by the host.
            if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
                if let Ok(Value::String(inner)) = serde_json::from_str::<Value>(s) {
                    return Some(inner);
                }
            }
            Some(s.clone())
        }
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `2023-10-12T20:13:49`, with or without fractional seconds and an offset (no offset: UTC).
fn parse_host_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const BODY: &str =
        r#"{"tenant_id":"6c9f1d2e-0000-4000-8000-000000000001","conversation_id":"c-1"}"#;

    fn sb_invocation(data_msg: Value, metadata: Value) -> Vec<u8> {
        json!({ "Data": { "msg": data_msg }, "Metadata": metadata })
            .to_string()
            .into_bytes()
    }

    /// The metadata as the host sends it for a Service Bus trigger: scalars stringified.
    fn documented_metadata() -> Value {
        json!({
            "DeliveryCount": "1",
            "LockToken": "\"3f2b3b3e-1b2c-4d5e-8f90-123456789abc\"",
            "ExpiresAtUtc": "2023-10-26T20:13:49",
            "EnqueuedTimeUtc": "2023-10-12T20:13:49",
            "MessageId": "\"abc\"",
            "ContentType": "null",
            "SequenceNumber": "4",
            "sys": { "MethodName": "agent", "UtcNow": "2023-10-12T20:13:50.1234567Z", "RandGuid": "a1b2c3d4-0000-4000-8000-000000000000" }
        })
    }

    fn expected_body() -> Value {
        serde_json::from_str(BODY).unwrap()
    }

    #[test]
    fn body_encoded_once_as_a_json_string() {
        let inv = Invocation::parse(&sb_invocation(
            Value::String(BODY.into()),
            documented_metadata(),
        ))
        .unwrap();
        let msg = inv.service_bus_message("msg").unwrap();
        assert_eq!(msg.body, expected_body());
        assert_eq!(msg.message_id.as_deref(), Some("abc"));
        assert_eq!(msg.delivery_count, Some(1));
        assert_eq!(
            msg.enqueued_time_utc.unwrap().to_rfc3339(),
            "2023-10-12T20:13:49+00:00"
        );
    }

    #[test]
    fn body_encoded_twice() {
        let twice = Value::String(Value::String(BODY.into()).to_string());
        let inv = Invocation::parse(&sb_invocation(twice, documented_metadata())).unwrap();
        assert_eq!(
            inv.service_bus_message("msg").unwrap().body,
            expected_body()
        );
    }

    #[test]
    fn body_as_base64() {
        let b64 = base64::engine::general_purpose::STANDARD.encode(BODY);
        let inv =
            Invocation::parse(&sb_invocation(Value::String(b64), documented_metadata())).unwrap();
        assert_eq!(
            inv.service_bus_message("msg").unwrap().body,
            expected_body()
        );
    }

    #[test]
    fn body_as_base64_of_a_json_string() {
        let b64 = base64::engine::general_purpose::STANDARD
            .encode(Value::String(BODY.into()).to_string());
        let inv =
            Invocation::parse(&sb_invocation(Value::String(b64), documented_metadata())).unwrap();
        assert_eq!(
            inv.service_bus_message("msg").unwrap().body,
            expected_body()
        );
    }

    #[test]
    fn body_already_an_object() {
        let inv =
            Invocation::parse(&sb_invocation(expected_body(), documented_metadata())).unwrap();
        assert_eq!(
            inv.service_bus_message("msg").unwrap().body,
            expected_body()
        );
    }

    #[test]
    fn metadata_as_plain_numbers_and_unquoted_strings() {
        let meta = json!({ "DeliveryCount": 3, "MessageId": "abc", "EnqueuedTimeUtc": "2023-10-12T20:13:49.123Z" });
        let inv = Invocation::parse(&sb_invocation(Value::String(BODY.into()), meta)).unwrap();
        let msg = inv.service_bus_message("msg").unwrap();
        assert_eq!(msg.message_id.as_deref(), Some("abc"));
        assert_eq!(msg.delivery_count, Some(3));
        assert!(msg.enqueued_time_utc.is_some());
    }

    #[test]
    fn missing_metadata_is_tolerated() {
        let raw = json!({ "Data": { "msg": BODY } }).to_string();
        let msg = Invocation::parse(raw.as_bytes())
            .unwrap()
            .service_bus_message("msg")
            .unwrap();
        assert_eq!(msg.body, expected_body());
        assert_eq!(msg.message_id, None);
        assert_eq!(msg.delivery_count, None);
    }

    #[test]
    fn undecodable_bodies_are_errors_not_panics() {
        for bad in [
            json!("not json, not base64 !!"),
            json!(42),
            json!("MTIzNA=="),
            json!(null),
            json!([1, 2]),
        ] {
            let inv = Invocation::parse(&sb_invocation(bad.clone(), json!({}))).unwrap();
            assert!(
                matches!(
                    inv.service_bus_message("msg"),
                    Err(InvocationError::UndecodableBody(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn wrong_binding_name_and_garbage_envelope() {
        let inv = Invocation::parse(&sb_invocation(json!(BODY), json!({}))).unwrap();
        assert_eq!(
            inv.service_bus_message("message").unwrap_err(),
            InvocationError::MissingBinding("message".into())
        );
        assert!(matches!(
            Invocation::parse(b"{not json"),
            Err(InvocationError::Malformed(_))
        ));
        assert!(matches!(
            Invocation::parse(b"[]"),
            Err(InvocationError::Malformed(_))
        ));
    }

    #[test]
    fn timer_with_schedule_status() {
        let raw = json!({
            "Data": { "timer": {
                "Schedule": { "AdjustForDST": true },
                "ScheduleStatus": { "Last": "2026-11-22T02:00:00.0000000+00:00", "Next": "2026-11-23T02:00:00+00:00", "LastUpdated": "2026-11-22T02:00:00.0014083+00:00" },
                "IsPastDue": false
            } },
            "Metadata": { "sys": { "MethodName": "nightly", "UtcNow": "2026-11-23T02:00:00.0012Z", "RandGuid": "x" } }
        });
        let timer = Invocation::parse(raw.to_string().as_bytes())
            .unwrap()
            .timer("timer")
            .unwrap();
        assert!(!timer.is_past_due);
        assert_eq!(
            timer.schedule_status.unwrap().next.as_deref(),
            Some("2026-11-23T02:00:00+00:00")
        );
    }

    #[test]
    fn timer_with_null_schedule_status_and_past_due() {
        let raw = json!({ "Data": { "timer": { "Schedule": { "AdjustForDST": true }, "ScheduleStatus": null, "IsPastDue": true } }, "Metadata": {} });
        let timer = Invocation::parse(raw.to_string().as_bytes())
            .unwrap()
            .timer("timer")
            .unwrap();
        assert!(timer.is_past_due);
        assert_eq!(timer.schedule_status, None);
    }

    #[test]
    fn timer_given_as_a_json_string() {
        let inner = json!({ "Schedule": { "AdjustForDST": true }, "ScheduleStatus": null, "IsPastDue": false }).to_string();
        let raw = json!({ "Data": { "timer": inner }, "Metadata": {} });
        assert!(Invocation::parse(raw.to_string().as_bytes())
            .unwrap()
            .timer("timer")
            .is_ok());
    }

    #[test]
    fn response_has_the_host_shape() {
        let r = InvocationResponse::with_logs(vec!["done".into()]);
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({ "Outputs": {}, "Logs": ["done"], "ReturnValue": null })
        );
    }
}
