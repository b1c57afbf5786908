//! `meta-callbacks` (HTTP, forwarded: `/api/meta/...`): Meta's deauthorize and data-deletion
//! callbacks (POST, form field `signed_request`, checked before anything happens: a bad
//! signature is 400 and nothing is deleted), and the status page Meta links to.

use crate::http::{capped_body, ApiError};
use serde::Deserialize;
use shared::app::App;
use shared::instagram::data_deletion::{self, CallbackError};
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::{Filter, Reply};

const MAX_CALLBACK_BYTES: usize = 16 * 1024;

fn signed_request(body: &[u8]) -> Result<String, ApiError> {
    url::form_urlencoded::parse(body)
        .find(|(k, _)| k == "signed_request")
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::bad_request("Expected a form field named signed_request."))
}

fn callback_error(e: CallbackError) -> ApiError {
    match e {
        CallbackError::BadSignature(e) => {
            ApiError::bad_request(format!("The signed_request is not valid: {e}"))
        }
        CallbackError::Stale(_) => ApiError::new(StatusCode::BAD_REQUEST, "stale", e.to_string()),
        CallbackError::NotConfigured => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_configured",
            e.to_string(),
        ),
        CallbackError::Database(db) => {
            tracing::error!(error = %db, "Meta callback failed");
            ApiError::internal("The request could not be completed; Meta may send it again.")
        }
    }
}

#[derive(Deserialize)]
struct StatusQuery {
    code: Option<String>,
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(title: &str, text: &str, status: StatusCode) -> warp::reply::Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{t}</title><style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5}}</style>\
         </head><body><h1>{t}</h1><p>{x}</p></body></html>",
        t = html_escape(title),
        x = html_escape(text)
    );
    warp::reply::with_status(warp::reply::html(html), status).into_response()
}

/// `POST /api/meta/<name>` with a form field `signed_request`, answered with JSON.
fn signed_post<F, Fut>(
    name: &'static str,
    app: App,
    handle: F,
) -> BoxedFilter<(warp::reply::Response,)>
where
    F: Fn(App, String) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<serde_json::Value, CallbackError>> + Send,
{
    warp::path("api")
        .and(warp::path("meta"))
        .and(warp::path(name))
        .and(warp::path::end())
        .and(warp::post())
        .and(capped_body(MAX_CALLBACK_BYTES))
        .then(move |body: bytes::Bytes| {
            let (app, handle) = (app.clone(), handle.clone());
            async move {
                let answer = match signed_request(&body) {
                    Ok(sr) => handle(app, sr).await.map_err(callback_error),
                    Err(e) => Err(e),
                };
                match answer {
                    Ok(v) => warp::reply::json(&v).into_response(),
                    Err(e) => e.into_response(),
                }
            }
        })
        .boxed()
}

pub fn route(app: App) -> BoxedFilter<(warp::reply::Response,)> {
    let deauthorize = signed_post("deauthorize", app.clone(), |app, sr| async move {
        let code = data_deletion::deauthorize(&app, &sr).await?;
        Ok(serde_json::json!({ "confirmation_code": code }))
    });
    let deletion = signed_post("data-deletion", app.clone(), |app, sr| async move {
        let receipt = data_deletion::delete_user_data(&app, &sr).await?;
        Ok(serde_json::to_value(receipt).expect("receipt serialises"))
    });
    let a = app;
    let status = warp::path!("api" / "meta" / "deletion-status")
        .and(warp::get())
        .and(crate::http::query::<StatusQuery>())
        .then(move |q: StatusQuery| {
            let app = a.clone();
            async move {
                let code = q.code.unwrap_or_default();
                match data_deletion::status(&app, &code).await {
                    Ok(Some(text)) => page("Data deletion request", &text, StatusCode::OK),
                    Ok(None) => page("Data deletion request", "We have no request with this confirmation code. Check the link Meta gave you.", StatusCode::NOT_FOUND),
                    Err(e) => {
                        tracing::error!(error = %e, "deletion status failed");
                        page("Data deletion request", "We could not look up this request right now. Please try again later.", StatusCode::SERVICE_UNAVAILABLE)
                    }
                }
            }
        });
    deauthorize.or(deletion).unify().or(status).unify().boxed()
}
