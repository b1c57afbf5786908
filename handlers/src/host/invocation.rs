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
