//! End to end through the public API: a signed webhook POST is verified, then parsed; a signed
//! deauthorize callback is verified and decoded.

use secrecy::SecretString;
use serde_json::json;
use shared::instagram::events::{parse_webhook, EventKind, EventSource};
use shared::instagram::signature::{sign_webhook_body, verify_webhook_signature, SignatureError};
use shared::instagram::signed_request::{make_signed_request, parse_signed_request};

#[test]
fn signed_webhook_is_verified_then_parsed() {
    let meta = SecretString::from("meta-app-secret".to_owned());
    let ig = SecretString::from("instagram-app-secret".to_owned());
    let body = br#"{"object":"instagram","entry":[{"id":"17841400000000000","time":1700000000000,"messaging":[{"sender":{"id":"6000000000000001"},"recipient":{"id":"17841400000000000"},"timestamp":1700000000001,"message":{"mid":"aWdfZAG1","text":"hi"}},{"sender":{"id":"6000000000000001"},"recipient":{"id":"17841400000000000"},"timestamp":1700000000002,"optin":{}}]}]}"#;
    let header = sign_webhook_body(body, &ig);

    verify_webhook_signature(body, Some(&header), &[&meta, &ig]).expect("signature");
    assert_eq!(
        verify_webhook_signature(body, Some(&header), &[&meta]),
        Err(SignatureError::Mismatch)
    );

    let batch = parse_webhook(body).expect("parse");
    let entry = &batch.entries[0];
    assert_eq!(entry.account_id, "17841400000000000");
    assert_eq!(entry.events.len(), 1);
    assert_eq!(entry.skipped.len(), 1);
    let ev = &entry.events[0];
    assert_eq!(ev.source, EventSource::Messaging);
    assert!(
        matches!(&ev.kind, EventKind::Message(m) if m.mid == "aWdfZAG1" && m.text.as_deref() == Some("hi"))
    );
}

#[test]
fn deauthorize_signed_request() {
    let secret = SecretString::from("instagram-app-secret".to_owned());
    let value = make_signed_request(
        &json!({"algorithm":"HMAC-SHA256","issued_at":1700000000,"user_id":"17841400000000000"}),
        &secret,
    );
    let req = parse_signed_request(&value, &[&secret]).expect("signed_request");
    assert_eq!(req.user_id, "17841400000000000");
    assert_eq!(req.issued_at, Some(1_700_000_000));
}
