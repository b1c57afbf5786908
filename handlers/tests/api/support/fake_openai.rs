//! A scripted OpenAI-compatible server on loopback: `POST /chat/completions` answers with the
//! next scripted step (a text, tool calls, an HTTP error, or a hang longer than the client's
//! timeout) and records every request it received; `POST /embeddings` answers with small
//! deterministic vectors.

#![allow(dead_code)]

use serde_json::{json, Value};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use warp::http::StatusCode;
use warp::{Filter, Reply};

#[derive(Debug, Clone)]
pub enum Step {
    Text(String),
    /// (tool name, arguments JSON text)
    Tools(Vec<(String, String)>),
    /// An HTTP error with an optional `retry-after` (seconds).
    Fail(u16, Option<u32>),
    /// Answers only after this long (longer than LLM_TIMEOUT_SECS makes a timeout).
    Hang(Duration),
    /// An HTTP error with this JSON body (e.g. a 400 naming an unsupported parameter).
    Refuse(u16, Value),
}

pub fn text(t: &str) -> Step {
    Step::Text(t.to_owned())
}

pub fn tool(name: &str, args: Value) -> Step {
    Step::Tools(vec![(name.to_owned(), args.to_string())])
}

/// Decides the answer from the request when the script is empty.
pub type Responder = Arc<dyn Fn(&Value) -> Step + Send + Sync>;

#[derive(Default)]
struct State {
    script: Mutex<VecDeque<Step>>,
    responder: Mutex<Option<Responder>>,
    chats: Mutex<Vec<Value>>,
    embeddings: Mutex<Vec<Value>>,
    auth: Mutex<Vec<Option<String>>>,
}

#[derive(Clone)]
pub struct FakeOpenAi {
    pub addr: SocketAddr,
    state: Arc<State>,
}

impl FakeOpenAi {
    pub async fn start() -> FakeOpenAi {
        let state = Arc::new(State::default());
        let s = state.clone();
        let chat = warp::post()
            .and(warp::path!("chat" / "completions"))
            .and(warp::header::optional::<String>("authorization"))
            .and(warp::body::json())
            .then(move |auth: Option<String>, body: Value| {
                let s = s.clone();
                async move {
                    s.auth.lock().unwrap().push(auth);
                    s.chats.lock().unwrap().push(body.clone());
                    let step = s
                        .script
                        .lock()
                        .unwrap()
                        .pop_front()
                        .or_else(|| s.responder.lock().unwrap().as_ref().map(|r| r(&body)));
                    let n = s.chats.lock().unwrap().len();
                    answer(step, n).await
                }
            });
        let s = state.clone();
        let embed = warp::post()
            .and(warp::path!("embeddings"))
            .and(warp::body::json())
            .map(move |body: Value| {
                s.embeddings.lock().unwrap().push(body.clone());
                let inputs = body["input"].as_array().cloned().unwrap_or_default();
                let data: Vec<Value> = inputs
                    .iter()
                    .enumerate()
                    .map(|(i, t)| json!({ "index": i, "embedding": vector(t.as_str().unwrap_or("")) }))
                    .collect();
                warp::reply::json(&json!({ "data": data, "usage": { "prompt_tokens": 7 * inputs.len(), "total_tokens": 7 * inputs.len() } }))
                    .into_response_boxed()
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(warp::serve(chat.or(embed).unify()).incoming(listener).run());
        FakeOpenAi { addr, state }
    }

    /// For OPENAI_BASE_URL.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn script(&self, steps: impl IntoIterator<Item = Step>) {
        self.state.script.lock().unwrap().extend(steps);
    }

    /// Answers from the request itself once the script is used up (many turns at once).
    pub fn respond_with(&self, responder: Responder) {
        *self.state.responder.lock().unwrap() = Some(responder);
    }

    /// Every chat request received, oldest first.
    pub fn chats(&self) -> Vec<Value> {
        self.state.chats.lock().unwrap().clone()
    }

    pub fn authorizations(&self) -> Vec<Option<String>> {
        self.state.auth.lock().unwrap().clone()
    }

    /// The whole prompt of the n-th chat request as one text.
    pub fn prompt_text(&self, n: usize) -> String {
        let chats = self.chats();
        chats[n]["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                format!(
                    "[{}] {}",
                    m["role"].as_str().unwrap_or(""),
                    m["content"].as_str().unwrap_or("")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The answers the tools gave in the n-th chat request (`role: tool` messages).
    pub fn tool_answers(&self, n: usize) -> Vec<Value> {
        self.chats()[n]["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["role"] == "tool")
            .map(|m| serde_json::from_str(m["content"].as_str().unwrap()).unwrap())
            .collect()
    }
}

trait Boxed {
    fn into_response_boxed(self) -> warp::reply::Response;
}
impl<T: warp::Reply> Boxed for T {
    fn into_response_boxed(self) -> warp::reply::Response {
        self.into_response()
    }
}

/// A small vector that depends on the text, so similar texts are not all identical.
fn vector(t: &str) -> Vec<f32> {
    let mut v = vec![0.1f32; 8];
    for (i, b) in t.bytes().enumerate() {
        v[i % 8] += f32::from(b) / 255.0;
    }
    v
}

async fn answer(step: Option<Step>, n: usize) -> warp::reply::Response {
    let usage = json!({ "prompt_tokens": 1200, "completion_tokens": 40, "total_tokens": 1240, "prompt_tokens_details": { "cached_tokens": 1024 } });
    let ok = |message: Value, finish: &str| {
        warp::reply::json(&json!({
            "id": format!("chatcmpl-{n}"), "object": "chat.completion", "model": "fake",
            "choices": [{ "index": 0, "message": message, "finish_reason": finish }],
            "usage": usage,
        }))
        .into_response()
    };
    match step.unwrap_or_else(|| Step::Text("تمام 👍".into())) {
        Step::Text(t) => ok(json!({ "role": "assistant", "content": t }), "stop"),
        Step::Tools(calls) => ok(
            json!({ "role": "assistant", "content": null, "tool_calls": calls.iter().enumerate().map(|(i, (name, args))| json!({
                "id": format!("call_{n}_{i}"), "type": "function", "function": { "name": name, "arguments": args }
            })).collect::<Vec<_>>() }),
            "tool_calls",
        ),
        Step::Fail(status, retry_after) => {
            let mut r = warp::reply::with_status(
                warp::reply::json(&json!({ "error": { "message": format!("scripted failure {status}"), "type": "server_error" } })),
                StatusCode::from_u16(status).unwrap(),
            )
            .into_response();
            if let Some(s) = retry_after {
                r.headers_mut()
                    .insert("retry-after", s.to_string().parse().unwrap());
            }
            r
        }
        Step::Refuse(status, body) => warp::reply::with_status(
            warp::reply::json(&body),
            StatusCode::from_u16(status).unwrap(),
        )
        .into_response(),
        Step::Hang(d) => {
            tokio::time::sleep(d).await;
            ok(
                json!({ "role": "assistant", "content": "too late" }),
                "stop",
            )
        }
    }
}
