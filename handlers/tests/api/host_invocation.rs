//! Decoding the Functions host's invocation bodies (handlers::host::invocation): every shape
//! the host is known to send, and the response shape it expects.

use base64::Engine;
use handlers::host::invocation::*;
use serde_json::{json, Value};

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
    let inv = Invocation::parse(&sb_invocation(Value::String(b64), documented_metadata())).unwrap();
    assert_eq!(
        inv.service_bus_message("msg").unwrap().body,
        expected_body()
    );
}

#[test]
fn body_as_base64_of_a_json_string() {
    let b64 =
        base64::engine::general_purpose::STANDARD.encode(Value::String(BODY.into()).to_string());
    let inv = Invocation::parse(&sb_invocation(Value::String(b64), documented_metadata())).unwrap();
    assert_eq!(
        inv.service_bus_message("msg").unwrap().body,
        expected_body()
    );
}

#[test]
fn body_already_an_object() {
    let inv = Invocation::parse(&sb_invocation(expected_body(), documented_metadata())).unwrap();
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
    let inner =
        json!({ "Schedule": { "AdjustForDST": true }, "ScheduleStatus": null, "IsPastDue": false })
            .to_string();
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
