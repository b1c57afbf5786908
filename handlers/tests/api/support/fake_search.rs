//! A recording Azure AI Search on 127.0.0.1 (the pattern of shared/tests/search.rs): every
//! request is kept; while `down` it answers 503 like a service in trouble; while `held` it
//! records a request and then waits to answer it until released.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use warp::Filter;

pub const KEY: &str = "test";

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub body: serde_json::Value,
    /// What the fake answered.
    pub status: u16,
}

/// One index action of a successful `docs/index` request.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    /// "upload" or "delete".
    pub action: String,
    /// The document key (`<tenant>_product_<item>`).
    pub key: String,
    /// The whole document as sent.
    pub doc: serde_json::Value,
}

#[derive(Clone)]
pub struct FakeSearch {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
    down: Arc<AtomicBool>,
    held: Arc<tokio::sync::watch::Sender<bool>>,
}

impl FakeSearch {
    pub async fn start() -> Self {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let down = Arc::new(AtomicBool::new(false));
        let (held, release) = tokio::sync::watch::channel(false);
        let (log, is_down) = (requests.clone(), down.clone());
        let route = warp::method()
            .and(warp::path::full())
            .and(warp::body::bytes())
            .then(
                move |method: warp::http::Method,
                      path: warp::path::FullPath,
                      body: bytes::Bytes| {
                    let (log, is_down, mut release) =
                        (log.clone(), is_down.clone(), release.clone());
                    async move {
                        let status = if is_down.load(Ordering::SeqCst) {
                            503
                        } else {
                            200
                        };
                        log.lock().unwrap().push(Recorded {
                            method: method.to_string(),
                            path: path.as_str().to_owned(),
                            body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
                            status,
                        });
                        while *release.borrow_and_update() {
                            if release.changed().await.is_err() {
                                break;
                            }
                        }
                        let body = if status == 503 {
                            r#"{"error":{"message":"Service Unavailable"}}"#
                        } else {
                            r#"{"value":[]}"#
                        };
                        warp::http::Response::builder()
                            .status(status)
                            .header("content-type", "application/json; odata.metadata=none")
                            .body(body.to_owned())
                            .unwrap()
                    }
                },
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(warp::serve(route).incoming(listener).run());
        FakeSearch {
            addr,
            requests,
            down,
            held: Arc::new(held),
        }
    }

    /// Settings that point the app at this server.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("SEARCH_BACKEND", "azure".into()),
            ("AZURE_SEARCH_ENDPOINT", format!("http://{}", self.addr)),
            ("AZURE_SEARCH_API_KEY", KEY.into()),
            ("AZURE_SEARCH_INDEX", "igshop".into()),
        ]
    }

    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// While held, each request is recorded and then left unanswered until released.
    pub fn hold(&self, held: bool) {
        self.held.send_replace(held);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    pub fn clear(&self) {
        self.requests.lock().unwrap().clear();
    }

    /// The index actions the service accepted, in order.
    pub fn accepted(&self) -> Vec<Action> {
        self.requests()
            .into_iter()
            .filter(|r| r.status == 200 && r.path.ends_with("/docs/index"))
            .flat_map(|r| {
                r.body["value"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|doc| Action {
                        action: doc["@search.action"].as_str().unwrap_or("").to_owned(),
                        key: doc["id"].as_str().unwrap_or("").to_owned(),
                        doc,
                    })
            })
            .collect()
    }
}
