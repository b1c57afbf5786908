//! A real HTTP server on loopback standing in for api.instagram.com and graph.instagram.com:
//! it records every request and answers with scripted responses (or sensible defaults), so
//! the real Graph client is exercised end to end.
//!
//! Like Instagram, it keeps what it delivered: the Conversations API answers from that, and
//! faults can be switched on for sends — refuse every n-th with a 500 (not delivered), or
//! deliver every n-th and answer only after a delay (longer than the client's timeout: the
//! sender cannot know it was delivered).

#![allow(dead_code)]

use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use warp::http::StatusCode;
use warp::Filter;

pub const ACCOUNT_ID: &str = "17841400000000001";
pub const HANDLE: &str = "jo.shop";

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: String,
    pub authorization: Option<String>,
    pub body: String,
    pub traceparent: Option<String>,
}

/// A message the fake delivered to a customer.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub mid: String,
    pub recipient: String,
    pub text: Option<String>,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// Faults for `POST …/messages` (0 = off).
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults {
    /// Every n-th send is refused with HTTP 500 and not delivered.
    pub fail_every: u64,
    /// Every n-th send is delivered and answered only after `slow_for`.
    pub slow_every: u64,
    pub slow_for: Duration,
}

#[derive(Default)]
struct State {
    requests: Mutex<Vec<Recorded>>,
    scripted: Mutex<HashMap<String, VecDeque<(u16, Value)>>>,
    counter: AtomicU64,
    sends: AtomicU64,
    me: Mutex<(String, String)>,
    delivered: Mutex<Vec<Delivered>>,
    faults: Mutex<Faults>,
    /// The next n sends are delivered and answered after this delay.
    slow_next: Mutex<(u32, Duration)>,
}

#[derive(Clone)]
pub struct FakeInstagram {
    pub addr: SocketAddr,
    state: Arc<State>,
}

impl FakeInstagram {
    pub async fn start() -> FakeInstagram {
        let state = Arc::new(State::default());
        *state.me.lock().unwrap() = (ACCOUNT_ID.into(), HANDLE.into());
        let s = state.clone();
        let route = warp::method()
            .and(warp::path::full())
            .and(warp::query::raw().or(warp::any().map(String::new)).unify())
            .and(warp::header::optional::<String>("authorization"))
            .and(warp::header::optional::<String>("traceparent"))
            .and(warp::body::bytes())
            .then(
                move |method: warp::http::Method,
                      path: warp::path::FullPath,
                      query: String,
                      auth: Option<String>,
                      traceparent: Option<String>,
                      body: bytes::Bytes| {
                    let s = s.clone();
                    async move {
                        let rec = Recorded {
                            method: method.to_string(),
                            path: path.as_str().to_owned(),
                            query,
                            authorization: auth,
                            body: String::from_utf8_lossy(&body).into_owned(),
                            traceparent,
                        };
                        s.requests.lock().unwrap().push(rec.clone());
                        let (status, body, delay) = answer_send(&s, &rec);
                        if !delay.is_zero() {
                            tokio::time::sleep(delay).await;
                        }
                        warp::reply::with_status(
                            warp::reply::json(&body),
                            StatusCode::from_u16(status).unwrap(),
                        )
                    }
                },
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(warp::serve(route).incoming(listener).run());
        FakeInstagram { addr, state }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next answer to requests whose `METHOD path` ends with `key` (e.g. "POST /messages").
    pub fn script(&self, key: &str, status: u16, body: Value) {
        self.state
            .scripted
            .lock()
            .unwrap()
            .entry(key.to_owned())
            .or_default()
            .push_back((status, body));
    }

    pub fn set_me(&self, user_id: &str, username: &str) {
        *self.state.me.lock().unwrap() = (user_id.into(), username.into());
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    /// Every message delivered to a customer (not sender actions), oldest first.
    pub fn delivered(&self) -> Vec<Delivered> {
        self.state.delivered.lock().unwrap().clone()
    }

    pub fn set_faults(&self, faults: Faults) {
        *self.state.faults.lock().unwrap() = faults;
    }

    /// The next `n` sends are delivered, then answered only after `delay`.
    pub fn slow_next_sends(&self, n: u32, delay: Duration) {
        *self.state.slow_next.lock().unwrap() = (n, delay);
    }

    /// As Instagram would after the shop's own send: the echo webhook event of a delivered
    /// message.
    pub fn echo_event(&self, d: &Delivered) -> Value {
        let (me, _) = self.state.me.lock().unwrap().clone();
        json!({ "sender": { "id": me }, "recipient": { "id": d.recipient }, "timestamp": d.at.timestamp_millis(),
                "message": { "mid": d.mid, "text": d.text, "is_echo": true } })
    }

    pub fn requests_to(&self, suffix: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.ends_with(suffix))
            .collect()
    }
}

/// Sends go through the faults and are kept when delivered; everything else is `answer`.
fn answer_send(s: &State, r: &Recorded) -> (u16, Value, Duration) {
    let is_send = r.method == "POST" && r.path.ends_with("/messages");
    let body: Value = serde_json::from_str(&r.body).unwrap_or_default();
    let is_action = body.get("sender_action").is_some();
    let mut delay = Duration::ZERO;
    if is_send && !is_action {
        let n = s.sends.fetch_add(1, Ordering::SeqCst) + 1;
        let faults = *s.faults.lock().unwrap();
        if faults.fail_every > 0 && n % faults.fail_every == 0 {
            return (
                500,
                json!({ "error": { "message": "An unexpected error has occurred. Please retry your request later.", "type": "OAuthException", "code": 2 } }),
                Duration::ZERO,
            );
        }
        if faults.slow_every > 0 && n % faults.slow_every == 0 {
            delay = faults.slow_for;
        }
        let mut slow = s.slow_next.lock().unwrap();
        if slow.0 > 0 {
            slow.0 -= 1;
            delay = slow.1;
        }
    }
    let (status, answer_body) = answer(s, r);
    if is_send && !is_action && status == 200 {
        if let Some(mid) = answer_body["message_id"].as_str() {
            s.delivered.lock().unwrap().push(Delivered {
                mid: mid.to_owned(),
                recipient: body["recipient"]["id"].as_str().unwrap_or("").to_owned(),
                text: body["message"]["text"].as_str().map(str::to_owned),
                at: chrono::Utc::now(),
            });
        }
    }
    (status, answer_body, delay)
}

fn query_param(query: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn answer(s: &State, r: &Recorded) -> (u16, Value) {
    let line = format!("{} {}", r.method, r.path);
    {
        let mut scripted = s.scripted.lock().unwrap();
        let key = scripted
            .keys()
            .find(|k| {
                let (method, suffix) = k.split_once(' ').unwrap_or(("", k.as_str()));
                method == r.method && r.path.ends_with(suffix) && !scripted[k.as_str()].is_empty()
            })
            .cloned();
        if let Some(key) = key {
            return scripted.get_mut(&key).unwrap().pop_front().unwrap();
        }
    }
    let n = s.counter.fetch_add(1, Ordering::SeqCst);
    let (me_id, me_name) = s.me.lock().unwrap().clone();
    match (r.method.as_str(), r.path.as_str()) {
        ("POST", "/oauth/access_token") => (
            200,
            json!({ "access_token": format!("IGQ-short-{n}"), "user_id": me_id.parse::<u64>().unwrap_or(1), "permissions": "instagram_business_basic,instagram_business_manage_messages" }),
        ),
        ("GET", "/access_token") => (
            200,
            json!({ "access_token": format!("IGAA-long-{n}"), "token_type": "bearer", "expires_in": 5_184_000 }),
        ),
        ("GET", "/refresh_access_token") => (
            200,
            json!({ "access_token": format!("IGAA-refreshed-{n}"), "token_type": "bearer", "expires_in": 5_184_000 }),
        ),
        ("GET", p) if p.ends_with("/me") => (200, json!({ "user_id": me_id, "username": me_name })),
        ("POST", p) if p.ends_with("/subscribed_apps") => (200, json!({ "success": true })),
        // The conversation with one customer, and its latest messages (newest first), from
        // what was delivered.
        ("GET", p) if p.ends_with("/conversations") => {
            let data: Vec<Value> = match query_param(&r.query, "user_id") {
                Some(user) => vec![
                    json!({ "id": format!("conv-{user}"), "updated_time": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%z").to_string(),
                                           "participants": { "data": [{ "id": me_id }, { "id": user }] } }),
                ],
                None => vec![],
            };
            (200, json!({ "data": data }))
        }
        ("GET", p)
            if p.rsplit('/')
                .next()
                .is_some_and(|last| last.starts_with("conv-")) =>
        {
            let user = p
                .rsplit('/')
                .next()
                .unwrap()
                .trim_start_matches("conv-")
                .to_owned();
            let data: Vec<Value> = s
                .delivered
                .lock()
                .unwrap()
                .iter()
                .rev()
                .filter(|d| d.recipient == user)
                .take(25)
                .map(|d| json!({ "id": d.mid, "created_time": d.at.format("%Y-%m-%dT%H:%M:%S%z").to_string(),
                                 "from": { "id": me_id }, "to": { "data": [{ "id": d.recipient }] }, "message": d.text }))
                .collect();
            (
                200,
                json!({ "id": format!("conv-{user}"), "messages": { "data": data } }),
            )
        }
        ("POST", p) if p.ends_with("/messages") => {
            let body: Value = serde_json::from_str(&r.body).unwrap_or_default();
            if body.get("sender_action").is_some() {
                (200, json!({ "recipient_id": body["recipient"]["id"] }))
            } else {
                (
                    200,
                    json!({ "recipient_id": body["recipient"]["id"], "message_id": format!("m_sent_{n}") }),
                )
            }
        }
        _ => (
            404,
            json!({ "error": { "message": format!("fake Instagram has no {line}"), "type": "OAuthException", "code": 100 } }),
        ),
    }
}
