//! A real HTTP server on loopback standing in for api.instagram.com and graph.instagram.com:
//! it records every request and answers with scripted responses (or sensible defaults), so
//! the real Graph client is exercised end to end.

#![allow(dead_code)]

use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
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
}

#[derive(Default)]
struct State {
    requests: Mutex<Vec<Recorded>>,
    scripted: Mutex<HashMap<String, VecDeque<(u16, Value)>>>,
    counter: AtomicU64,
    me: Mutex<(String, String)>,
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
            .and(warp::body::bytes())
            .map(
                move |method: warp::http::Method,
                      path: warp::path::FullPath,
                      query: String,
                      auth: Option<String>,
                      body: bytes::Bytes| {
                    let rec = Recorded {
                        method: method.to_string(),
                        path: path.as_str().to_owned(),
                        query,
                        authorization: auth,
                        body: String::from_utf8_lossy(&body).into_owned(),
                    };
                    s.requests.lock().unwrap().push(rec.clone());
                    let (status, body) = answer(&s, &rec);
                    warp::reply::with_status(
                        warp::reply::json(&body),
                        StatusCode::from_u16(status).unwrap(),
                    )
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

    pub fn requests_to(&self, suffix: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.ends_with(suffix))
            .collect()
    }
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
