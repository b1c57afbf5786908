use super::*;
use serde_json::json;

const ACCOUNT: &str = "17841400000000000";
const CUSTOMER: &str = "1234567890123456";

/// A full body with one entry holding `items` in `messaging[]`.
fn body(items: Vec<Value>) -> Vec<u8> {
    json!({
        "object": "instagram",
        "entry": [{ "id": ACCOUNT, "time": 1_700_000_000_123i64, "messaging": items }]
    })
    .to_string()
    .into_bytes()
}

/// A customer → account item with `key: value`.
fn item(key: &str, value: Value) -> Value {
    let mut m = json!({
        "sender": { "id": CUSTOMER },
        "recipient": { "id": ACCOUNT },
        "timestamp": 1_700_000_000_456i64
    });
    m[key] = value;
    m
}

/// Parses a single-item body and returns the one event (asserting nothing was skipped).
fn one(item: Value) -> InstagramEvent {
    let batch = parse_webhook(&body(vec![item])).expect("parse");
    assert_eq!(batch.entries.len(), 1);
    let e = &batch.entries[0];
    assert!(e.skipped.is_empty(), "skipped: {:?}", e.skipped);
    assert_eq!(e.events.len(), 1);
    e.events[0].clone()
}

/// Parses a single-item body and returns the one skipped item.
fn skipped_one(item: Value) -> SkippedEvent {
    let batch = parse_webhook(&body(vec![item])).expect("parse");
    let e = &batch.entries[0];
    assert!(e.events.is_empty(), "events: {:?}", e.events);
    assert_eq!(e.skipped.len(), 1);
    e.skipped[0].clone()
}

fn message(ev: InstagramEvent) -> MessageEvent {
    match ev.kind {
        EventKind::Message(m) => m,
        other => panic!("expected Message, got {other:?}"),
    }
}

#[test]
fn text_message() {
    let ev = one(item(
        "message",
        json!({ "mid": "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQx", "text": "كم سعر الفستان الأحمر؟" }),
    ));
    assert_eq!(ev.sender_id, CUSTOMER);
    assert_eq!(ev.recipient_id, ACCOUNT);
    assert_eq!(ev.timestamp_ms, 1_700_000_000_456);
    assert_eq!(ev.source, EventSource::Messaging);
    let m = message(ev);
    assert_eq!(m.mid, "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQx");
    assert_eq!(m.text.as_deref(), Some("كم سعر الفستان الأحمر؟"));
    assert!(m.attachments.is_empty());
    assert_eq!(m.quick_reply_payload, None);
    assert_eq!(m.reply_to_mid, None);
    assert_eq!(m.reply_to_story, None);
    assert_eq!(m.referral, None);
    assert!(!m.is_unsupported);
}

#[test]
fn entry_fields() {
    let batch = parse_webhook(&body(vec![])).unwrap();
    assert_eq!(batch.entries[0].account_id, ACCOUNT);
    assert_eq!(batch.entries[0].time_ms, Some(1_700_000_000_123));
    assert_eq!(batch.event_count(), 0);
    assert_eq!(batch.skipped_count(), 0);
}

#[test]
fn image_attachment() {
    let url = "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=17999&signature=AbC";
    let m = message(one(item(
        "message",
        json!({ "mid": "m_img", "attachments": [{ "type": "image", "payload": { "url": url } }] }),
    )));
    assert_eq!(m.text, None);
    assert_eq!(m.attachments.len(), 1);
    assert_eq!(m.attachments[0].kind, "image");
    assert_eq!(m.attachments[0].url.as_deref(), Some(url));
    assert_eq!(
        m.attachments[0].raw,
        json!({ "type": "image", "payload": { "url": url } })
    );
}

#[test]
fn several_attachments_with_text_and_odd_ones() {
    let m = message(one(item(
        "message",
        json!({
            "mid": "m_multi",
            "text": "these two",
            "attachments": [
                { "type": "image", "payload": { "url": "https://cdn/a.jpg" } },
                { "type": "video", "payload": { "url": "https://cdn/b.mp4" } },
                { "type": "audio", "payload": { "url": "https://cdn/c.mp4" } },
                { "type": "file", "payload": { "url": "https://cdn/d.pdf" } },
                { "type": "template", "payload": { "generic": { "elements": [] } } },
                { "payload": { "url": "https://cdn/untyped" } },
                "not-an-object"
            ]
        }),
    )));
    let kinds: Vec<&str> = m.attachments.iter().map(|a| a.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["image", "video", "audio", "file", "template", "unknown", "unknown"]
    );
    assert_eq!(m.attachments[4].url, None);
    assert_eq!(m.attachments[5].url.as_deref(), Some("https://cdn/untyped"));
    assert_eq!(m.attachments[6].raw, json!("not-an-object"));
    assert_eq!(m.text.as_deref(), Some("these two"));
}

#[test]
fn story_reply() {
    let m = message(one(item(
        "message",
        json!({
            "mid": "m_story_reply",
            "text": "is this still available?",
            "reply_to": { "story": { "url": "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1&signature=x", "id": "17858893269000001" } }
        }),
    )));
    assert_eq!(m.text.as_deref(), Some("is this still available?"));
    assert_eq!(m.reply_to_mid, None);
    let story = m.reply_to_story.expect("story");
    assert_eq!(story.id.as_deref(), Some("17858893269000001"));
    assert!(story
        .url
        .unwrap()
        .starts_with("https://lookaside.fbsbx.com/"));
}

#[test]
fn reply_to_message() {
    let m = message(one(item(
        "message",
        json!({ "mid": "m2", "text": "yes", "reply_to": { "mid": "m1" } }),
    )));
    assert_eq!(m.reply_to_mid.as_deref(), Some("m1"));
    assert_eq!(m.reply_to_story, None);
}

#[test]
fn story_mention_attachment() {
    let m = message(one(item(
        "message",
        json!({
            "mid": "m_mention",
            "attachments": [{ "type": "story_mention", "payload": { "url": "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=2&signature=y" } }]
        }),
    )));
    assert_eq!(m.attachments[0].kind, "story_mention");
    assert!(m.attachments[0].url.is_some());
}

#[test]
fn share_and_reel_attachments() {
    let m = message(one(item(
        "message",
        json!({
            "mid": "m_share",
            "attachments": [
                { "type": "share", "payload": { "url": "https://www.instagram.com/p/Cxyz/" } },
                { "type": "ig_reel", "payload": { "reel_video_id": "1802", "title": "New drop", "url": "https://cdn/reel.mp4" } }
            ]
        }),
    )));
    assert_eq!(m.attachments[0].kind, "share");
    assert_eq!(
        m.attachments[0].url.as_deref(),
        Some("https://www.instagram.com/p/Cxyz/")
    );
    assert_eq!(m.attachments[1].kind, "ig_reel");
    assert_eq!(m.attachments[1].raw["payload"]["reel_video_id"], "1802");
}

#[test]
fn reaction_react_and_unreact() {
    let ev = one(item(
        "reaction",
        json!({ "mid": "m_target", "action": "react", "reaction": "love", "emoji": "\u{2764}\u{fe0f}" }),
    ));
    assert_eq!(
        ev.kind,
        EventKind::Reaction {
            mid: "m_target".into(),
            action: "react".into(),
            reaction: Some("love".into()),
            emoji: Some("\u{2764}\u{fe0f}".into()),
        }
    );
    let ev = one(item(
        "reaction",
        json!({ "mid": "m_target", "action": "unreact" }),
    ));
    assert_eq!(
        ev.kind,
        EventKind::Reaction {
            mid: "m_target".into(),
            action: "unreact".into(),
            reaction: None,
            emoji: None
        }
    );
    // Without mid or action: skipped.
    let s = skipped_one(item("reaction", json!({ "action": "react" })));
    assert!(s.reason.contains("mid"), "{}", s.reason);
    let s = skipped_one(item("reaction", json!({ "mid": "m" })));
    assert!(s.reason.contains("action"), "{}", s.reason);
}

#[test]
fn read() {
    let ev = one(item("read", json!({ "mid": "m_seen" })));
    assert_eq!(
        ev.kind,
        EventKind::Read {
            mid: Some("m_seen".into()),
            watermark: None
        }
    );
    let ev = one(item("read", json!({ "watermark": 1_700_000_000_000i64 })));
    assert_eq!(
        ev.kind,
        EventKind::Read {
            mid: None,
            watermark: Some(1_700_000_000_000)
        }
    );
}

#[test]
fn postback() {
    let ev = one(item(
        "postback",
        json!({ "mid": "m_pb", "title": "Order now", "payload": "ORDER:sku-42" }),
    ));
    assert_eq!(
        ev.kind,
        EventKind::Postback {
            mid: Some("m_pb".into()),
            title: Some("Order now".into()),
            payload: Some("ORDER:sku-42".into())
        }
    );
}

#[test]
fn message_edit() {
    let ev = one(item(
        "message_edit",
        json!({ "mid": "m_edit", "text": "corrected text", "num_edit": 1 }),
    ));
    assert_eq!(
        ev.kind,
        EventKind::Edit {
            mid: "m_edit".into(),
            text: Some("corrected text".into()),
            num_edit: Some(1)
        }
    );
    let s = skipped_one(item("message_edit", json!({ "text": "x" })));
    assert!(s.reason.contains("message_edit has no mid"), "{}", s.reason);
}

#[test]
fn deleted() {
    let ev = one(item(
        "message",
        json!({ "mid": "m_gone", "is_deleted": true }),
    ));
    assert_eq!(
        ev.kind,
        EventKind::Deleted {
            mid: "m_gone".into()
        }
    );
    // is_deleted: false is an ordinary message.
    let m = message(one(item(
        "message",
        json!({ "mid": "m_here", "text": "hi", "is_deleted": false }),
    )));
    assert_eq!(m.mid, "m_here");
}

#[test]
fn echo() {
    let mut it = item(
        "message",
        json!({ "mid": "m_echo", "text": "Thanks! The price is 25 JOD", "is_echo": true }),
    );
    it["sender"] = json!({ "id": ACCOUNT });
    it["recipient"] = json!({ "id": CUSTOMER });
    let ev = one(it);
    assert_eq!(ev.sender_id, ACCOUNT);
    assert_eq!(ev.recipient_id, CUSTOMER);
    match ev.kind {
        EventKind::Echo(m) => {
            assert_eq!(m.mid, "m_echo");
            assert_eq!(m.text.as_deref(), Some("Thanks! The price is 25 JOD"));
        }
        other => panic!("expected Echo, got {other:?}"),
    }
}

#[test]
fn unsupported() {
    let m = message(one(item(
        "message",
        json!({ "mid": "m_unsup", "is_unsupported": true }),
    )));
    assert!(m.is_unsupported);
    assert_eq!(m.text, None);
    assert!(m.attachments.is_empty());
}

#[test]
fn quick_reply() {
    let m = message(one(item(
        "message",
        json!({ "mid": "m_qr", "text": "Red", "quick_reply": { "payload": "COLOR_RED" } }),
    )));
    assert_eq!(m.quick_reply_payload.as_deref(), Some("COLOR_RED"));
    assert_eq!(m.text.as_deref(), Some("Red"));
}

#[test]
fn referral_inside_message_and_alongside_it() {
    let referral = json!({ "ref": "summer_sale", "ad_id": "23851", "source": "ADS", "type": "OPEN_THREAD",
        "ads_context_data": { "ad_title": "Summer", "photo_url": "https://cdn/ad.jpg" } });
    let m = message(one(item(
        "message",
        json!({ "mid": "m_ref", "text": "Hi", "referral": referral }),
    )));
    assert_eq!(m.referral.as_ref(), Some(&referral));

    let mut it = item("message", json!({ "mid": "m_ref2", "text": "Hi" }));
    it["referral"] = referral.clone();
    let m = message(one(it));
    assert_eq!(m.referral.as_ref(), Some(&referral));
}

#[test]
fn referral_without_message() {
    let referral = json!({ "ref": "bio_link", "source": "SHORTLINK", "type": "OPEN_THREAD" });
    let ev = one(item("referral", referral.clone()));
    assert_eq!(ev.kind, EventKind::Referral { referral });
}

#[test]
fn changes_dashboard_test_event() {
    // The sample Meta's dashboard sends with the "Test" button.
    let raw = br#"{"object":"instagram","entry":[{"id":"0","time":1527459824,"changes":[{"field":"messages","value":{"sender":{"id":"12334"},"recipient":{"id":"23245"},"timestamp":"1527459824","message":{"mid":"random_mid","text":"random_text"}}}]}]}"#;
    let batch = parse_webhook(raw).unwrap();
    let e = &batch.entries[0];
    assert_eq!(e.account_id, "0");
    assert_eq!(e.time_ms, Some(1_527_459_824_000));
    assert!(e.skipped.is_empty(), "{:?}", e.skipped);
    let ev = &e.events[0];
    assert_eq!(ev.source, EventSource::Changes);
    assert_eq!(ev.sender_id, "12334");
    assert_eq!(ev.recipient_id, "23245");
    assert_eq!(ev.timestamp_ms, 1_527_459_824_000);
    match &ev.kind {
        EventKind::Message(m) => {
            assert_eq!(m.mid, "random_mid");
            assert_eq!(m.text.as_deref(), Some("random_text"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn changes_other_kinds_and_unsupported_fields() {
    let raw = json!({
        "object": "instagram",
        "entry": [{
            "id": ACCOUNT,
            "time": 1_700_000_000,
            "changes": [
                { "field": "message_reactions", "value": { "sender": {"id": "1"}, "recipient": {"id": "2"}, "timestamp": 1_700_000_000,
                  "reaction": { "mid": "m", "action": "react", "reaction": "love", "emoji": "\u{2764}" } } },
                { "field": "messaging_seen", "value": { "sender": {"id": "1"}, "recipient": {"id": "2"}, "timestamp": 1_700_000_000, "read": { "mid": "m" } } },
                { "field": "messaging_postbacks", "value": { "sender": {"id": "1"}, "recipient": {"id": "2"}, "timestamp": 1_700_000_000, "postback": { "title": "t", "payload": "p" } } },
                { "field": "message_edit", "value": { "sender": {"id": "1"}, "recipient": {"id": "2"}, "timestamp": 1_700_000_000, "message_edit": { "mid": "m", "text": "t2", "num_edit": 2 } } },
                { "field": "comments", "value": { "id": "c1", "text": "nice" } },
                { "field": "messages", "value": { "sender": {"id": "1"}, "recipient": {"id": "2"}, "timestamp": 1, "message": { "text": "no mid" } } },
                { "field": "messages", "value": "oops" },
                { "value": {} }
            ]
        }]
    });
    let batch = parse_webhook(raw.to_string().as_bytes()).unwrap();
    let e = &batch.entries[0];
    assert_eq!(e.events.len(), 4);
    assert!(e
        .events
        .iter()
        .all(|ev| ev.source == EventSource::Changes && ev.timestamp_ms == 1_700_000_000_000));
    assert!(matches!(e.events[0].kind, EventKind::Reaction { .. }));
    assert!(matches!(e.events[1].kind, EventKind::Read { .. }));
    assert!(matches!(e.events[2].kind, EventKind::Postback { .. }));
    assert!(matches!(
        e.events[3].kind,
        EventKind::Edit {
            num_edit: Some(2),
            ..
        }
    ));
    assert_eq!(e.skipped.len(), 4);
    assert!(e.skipped[0].reason.contains("comments"));
    assert_eq!(e.skipped[0].raw, raw["entry"][0]["changes"][4]);
    assert!(
        e.skipped[1].reason.contains("message has no mid"),
        "{}",
        e.skipped[1].reason
    );
    // The skipped change is kept whole, value included.
    assert_eq!(e.skipped[1].raw, raw["entry"][0]["changes"][5]);
    assert_eq!(e.skipped[2].raw, raw["entry"][0]["changes"][6]);
    assert!(e.skipped[3].reason.contains("no field"));
}

#[test]
fn standby() {
    let raw = json!({
        "object": "instagram",
        "entry": [{
            "id": ACCOUNT, "time": 1_700_000_000_000i64,
            "standby": [item("message", json!({ "mid": "m_sb", "text": "hello" }))]
        }]
    });
    let batch = parse_webhook(raw.to_string().as_bytes()).unwrap();
    let ev = &batch.entries[0].events[0];
    assert_eq!(ev.source, EventSource::Standby);
    assert!(matches!(&ev.kind, EventKind::Message(m) if m.mid == "m_sb"));
}

#[test]
fn messaging_and_standby_in_one_entry() {
    let raw = json!({
        "object": "instagram",
        "entry": [{
            "id": ACCOUNT,
            "messaging": [item("message", json!({ "mid": "a", "text": "1" }))],
            "standby": [item("read", json!({ "mid": "a" }))]
        }]
    });
    let batch = parse_webhook(raw.to_string().as_bytes()).unwrap();
    let e = &batch.entries[0];
    assert_eq!(e.time_ms, None);
    assert_eq!(
        e.events.iter().map(|e| e.source).collect::<Vec<_>>(),
        [EventSource::Messaging, EventSource::Standby]
    );
}

#[test]
fn unknown_messaging_key_is_skipped() {
    let it = item("optin", json!({ "ref": "x" }));
    let s = skipped_one(it.clone());
    assert!(s.reason.contains("unknown event kind"), "{}", s.reason);
    assert!(s.reason.contains("optin"), "{}", s.reason);
    assert_eq!(s.raw, it, "skipped items are kept as received");
}

#[test]
fn malformed_single_events_are_skipped_not_fatal() {
    let good = item("message", json!({ "mid": "ok", "text": "fine" }));
    let mut no_sender = good.clone();
    no_sender.as_object_mut().unwrap().remove("sender");
    let mut no_ts = good.clone();
    no_ts.as_object_mut().unwrap().remove("timestamp");
    let bad_items = vec![
        item("message", json!({ "text": "no mid" })),
        item("message", json!({ "mid": "" })),
        item("message", json!({ "mid": 5 })),
        item("message", json!("string message")),
        item("message", json!({ "mid": "m", "attachments": "nope" })),
        item("read", json!(true)),
        no_sender,
        json!(42),
        json!({ "sender": { "id": {} }, "recipient": { "id": "1" }, "timestamp": 1, "message": { "mid": "m" } }),
    ];
    let n_bad = bad_items.len();
    let mut items = bad_items.clone();
    items.push(good);
    items.push(no_ts); // falls back to entry time
    let batch = parse_webhook(&body(items)).unwrap();
    let e = &batch.entries[0];
    assert_eq!(e.skipped.len(), n_bad, "{:#?}", e.skipped);
    for (s, raw) in e.skipped.iter().zip(&bad_items) {
        assert_eq!(&s.raw, raw, "raw kept intact for: {}", s.reason);
        assert!(!s.reason.is_empty());
    }
    assert_eq!(e.events.len(), 2);
    assert_eq!(
        e.events[1].timestamp_ms, 1_700_000_000_123,
        "entry time fallback"
    );
}

#[test]
fn no_timestamp_anywhere_is_skipped() {
    let mut it = item("message", json!({ "mid": "m" }));
    it.as_object_mut().unwrap().remove("timestamp");
    let raw = json!({ "object": "instagram", "entry": [{ "id": ACCOUNT, "messaging": [it] }] });
    let batch = parse_webhook(raw.to_string().as_bytes()).unwrap();
    assert!(batch.entries[0].skipped[0].reason.contains("timestamp"));
}

#[test]
fn timestamps_seconds_ms_strings() {
    for (ts, want) in [
        (json!(1_700_000_000), 1_700_000_000_000i64),
        (json!(1_700_000_000_456i64), 1_700_000_000_456),
        (json!("1700000000"), 1_700_000_000_000),
        (json!(" 1700000000456 "), 1_700_000_000_456),
        (json!(1_700_000_000.5), 1_700_000_000_000),
        (json!("1700000000.0"), 1_700_000_000_000),
    ] {
        let mut it = item("read", json!({ "mid": "m" }));
        it["timestamp"] = ts.clone();
        assert_eq!(one(it).timestamp_ms, want, "{ts}");
    }
    // Unusable timestamp falls back to the entry time.
    for ts in [json!("soon"), json!(-5), json!(null), json!([1])] {
        let mut it = item("read", json!({ "mid": "m" }));
        it["timestamp"] = ts;
        assert_eq!(one(it).timestamp_ms, 1_700_000_000_123);
    }
}

#[test]
fn numeric_ids() {
    // u64 beyond 2^53 survives exactly.
    let raw = br#"{"object":"instagram","entry":[{"id":17841400000000001,"time":1700000000000,"messaging":[{"sender":{"id":9007199254740993},"recipient":{"id":17841400000000001},"timestamp":1700000000000,"message":{"mid":"m","text":"x"}}]}]}"#;
    let batch = parse_webhook(raw).unwrap();
    let e = &batch.entries[0];
    assert_eq!(e.account_id, "17841400000000001");
    assert_eq!(e.events[0].sender_id, "9007199254740993");
    assert_eq!(e.events[0].recipient_id, "17841400000000001");
    assert_eq!(u64::MAX.to_string(), "18446744073709551615");
    let raw = br#"{"object":"instagram","entry":[{"id":18446744073709551615,"messaging":[]}]}"#;
    assert_eq!(
        parse_webhook(raw).unwrap().entries[0].account_id,
        "18446744073709551615"
    );
}

#[test]
fn ids_beyond_u64_are_refused_not_rounded() {
    // > u64::MAX: serde_json would round it to f64, so the event is skipped.
    let raw = br#"{"object":"instagram","entry":[{"id":"1","time":1700000000000,"messaging":[{"sender":{"id":123456789012345678901},"recipient":{"id":"1"},"timestamp":1700000000000,"message":{"mid":"m"}}]}]}"#;
    let batch = parse_webhook(raw).unwrap();
    let e = &batch.entries[0];
    assert!(e.events.is_empty());
    assert!(
        e.skipped[0].reason.contains("sender.id"),
        "{}",
        e.skipped[0].reason
    );
    // An entry whose own id is unusable: all its items are skipped, account_id empty.
    let raw = br#"{"object":"instagram","entry":[{"id":123456789012345678901,"messaging":[{"sender":{"id":"1"},"recipient":{"id":"2"},"timestamp":1,"message":{"mid":"m"}}]},{"messaging":[{}]}]}"#;
    let batch = parse_webhook(raw).unwrap();
    for e in &batch.entries {
        assert_eq!(e.account_id, "");
        assert!(e.events.is_empty());
        assert_eq!(e.skipped.len(), 1);
        assert!(
            e.skipped[0].reason.contains("entry"),
            "{}",
            e.skipped[0].reason
        );
    }
}

#[test]
fn several_entries_for_different_accounts() {
    let raw = json!({
        "object": "instagram",
        "entry": [
            { "id": "111", "time": 1_700_000_000_000i64, "messaging": [
                { "sender": {"id": "c1"}, "recipient": {"id": "111"}, "timestamp": 1_700_000_000_001i64, "message": { "mid": "a1", "text": "one" } },
                { "sender": {"id": "c2"}, "recipient": {"id": "111"}, "timestamp": 1_700_000_000_002i64, "message": { "mid": "a2", "text": "two" } }
            ]},
            { "id": "222", "time": 1_700_000_000_000i64, "messaging": [
                { "sender": {"id": "c3"}, "recipient": {"id": "222"}, "timestamp": 1_700_000_000_003i64, "reaction": { "mid": "b0", "action": "react", "reaction": "love" } }
            ]},
            "garbage-entry",
            { "id": "333", "messaging": "not-an-array" }
        ]
    });
    let batch = parse_webhook(raw.to_string().as_bytes()).unwrap();
    assert_eq!(batch.entries.len(), 4);
    assert_eq!(batch.entries[0].account_id, "111");
    assert_eq!(batch.entries[0].events.len(), 2);
    assert!(batch.entries[0]
        .events
        .iter()
        .all(|e| e.recipient_id == "111"));
    assert_eq!(batch.entries[1].account_id, "222");
    assert!(matches!(
        batch.entries[1].events[0].kind,
        EventKind::Reaction { .. }
    ));
    assert_eq!(batch.entries[2].account_id, "");
    assert_eq!(batch.entries[2].skipped[0].raw, json!("garbage-entry"));
    assert_eq!(batch.entries[3].account_id, "333");
    assert!(batch.entries[3].skipped[0].reason.contains("not an array"));
    assert_eq!(batch.event_count(), 3);
    assert_eq!(batch.skipped_count(), 2);
}

/// A realistic mixed batch of `n` events over 10 accounts, ~300 bytes per event.
pub(crate) fn big_batch(n: usize) -> Vec<u8> {
    let mut entries = Vec::new();
    for a in 0..10 {
        let account = format!("1784140000000{a:04}");
        let mut items = Vec::new();
        for i in (a..n).step_by(10) {
            let sender = format!("{}", 6_000_000_000_000_000u64 + i as u64);
            let ts = 1_700_000_000_000i64 + i as i64;
            let it = match i % 5 {
                0 | 1 => {
                    json!({ "sender": {"id": sender}, "recipient": {"id": account}, "timestamp": ts,
                    "message": { "mid": format!("aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAw{i:08}"),
                        "text": format!("Hello, is the blue dress in size M still available? Order #{i}") } })
                }
                2 => {
                    json!({ "sender": {"id": sender}, "recipient": {"id": account}, "timestamp": ts,
                    "message": { "mid": format!("aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAw{i:08}"),
                        "attachments": [{ "type": "image", "payload": { "url": format!("https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id={i}&signature=AbCdEf") } }] } })
                }
                3 => {
                    json!({ "sender": {"id": sender}, "recipient": {"id": account}, "timestamp": ts,
                    "reaction": { "mid": format!("aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAw{i:08}"), "action": "react", "reaction": "love", "emoji": "\u{2764}\u{fe0f}" } })
                }
                _ => {
                    json!({ "sender": {"id": sender}, "recipient": {"id": account}, "timestamp": ts,
                    "read": { "mid": format!("aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAw{i:08}") } })
                }
            };
            items.push(it);
        }
        entries.push(json!({ "id": account, "time": 1_700_000_000_000i64, "messaging": items }));
    }
    json!({ "object": "instagram", "entry": entries })
        .to_string()
        .into_bytes()
}

#[test]
fn thousand_event_batch() {
    let raw = big_batch(1000);
    assert!(raw.len() > 150_000, "fixture size {}", raw.len());
    // Warm up once, then take the best of a few runs (the test machine is shared).
    let _ = parse_webhook(&raw).unwrap();
    let mut best = std::time::Duration::MAX;
    let mut batch = None;
    for _ in 0..5 {
        let t = std::time::Instant::now();
        let b = parse_webhook(&raw).unwrap();
        best = best.min(t.elapsed());
        batch = Some(b);
    }
    let batch = batch.unwrap();
    eprintln!(
        "parse_webhook: {} events, {} bytes, best {:?}",
        batch.event_count(),
        raw.len(),
        best
    );
    assert_eq!(batch.entries.len(), 10);
    assert_eq!(batch.event_count(), 1000);
    assert_eq!(batch.skipped_count(), 0);
    let messages = batch
        .entries
        .iter()
        .flat_map(|e| &e.events)
        .filter(|e| matches!(e.kind, EventKind::Message(_)))
        .count();
    assert_eq!(messages, 600);
    // Generous bound: only catches pathological (e.g. quadratic) behaviour on a loaded CI box.
    assert!(
        best < std::time::Duration::from_millis(500),
        "took {best:?}"
    );
}

#[test]
fn wrong_object() {
    let page = br#"{"object":"page","entry":[{"id":"1","time":1,"messaging":[]}]}"#;
    assert!(
        matches!(parse_webhook(page), Err(EventParseError::UnsupportedObject(o)) if o == "page")
    );
    let none = br#"{"entry":[]}"#;
    assert!(
        matches!(parse_webhook(none), Err(EventParseError::UnsupportedObject(o)) if o.is_empty())
    );
    let upper = br#"{"object":"Instagram","entry":[]}"#;
    assert!(matches!(
        parse_webhook(upper),
        Err(EventParseError::UnsupportedObject(_))
    ));
}

#[test]
fn missing_entry_array() {
    for raw in [
        &br#"{"object":"instagram"}"#[..],
        br#"{"object":"instagram","entry":{}}"#,
        br#"{"object":"instagram","entry":null}"#,
    ] {
        assert!(matches!(
            parse_webhook(raw),
            Err(EventParseError::MissingEntries)
        ));
    }
    let empty = parse_webhook(br#"{"object":"instagram","entry":[]}"#).unwrap();
    assert!(empty.entries.is_empty());
}

#[test]
fn not_json() {
    assert!(matches!(
        parse_webhook(b"hub.mode=subscribe"),
        Err(EventParseError::InvalidJson(_))
    ));
    assert!(matches!(
        parse_webhook(b""),
        Err(EventParseError::InvalidJson(_))
    ));
    assert!(matches!(
        parse_webhook(br#"{"object":"instagram","entry":[ "#),
        Err(EventParseError::InvalidJson(_))
    ));
    assert!(matches!(
        parse_webhook(b"[1,2,3]"),
        Err(EventParseError::NotAnObject)
    ));
    assert!(matches!(
        parse_webhook(b"\"instagram\""),
        Err(EventParseError::NotAnObject)
    ));
}

#[test]
fn events_round_trip_through_serde() {
    // Handy for handing events to a queue.
    let ev = one(item(
        "message",
        json!({ "mid": "m", "text": "hi", "attachments": [{ "type": "image", "payload": { "url": "u" } }] }),
    ));
    let s = serde_json::to_string(&ev).unwrap();
    let back: InstagramEvent = serde_json::from_str(&s).unwrap();
    assert_eq!(back, ev);
}
