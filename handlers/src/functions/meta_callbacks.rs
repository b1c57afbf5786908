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

pub fn route(app: App) -> BoxedFilter<(warp::reply::Response,)> {
    let a = app.clone();
    let deauthorize = warp::path!("api" / "meta" / "deauthorize")
        .and(warp::post())
        .and(capped_body(MAX_CALLBACK_BYTES))
        .then(move |body: bytes::Bytes| {
            let app = a.clone();
            async move {
                let result = async {
                    let sr = signed_request(&body)?;
                    let code = data_deletion::deauthorize(&app, &sr)
                        .await
                        .map_err(callback_error)?;
                    Ok::<_, ApiError>(
                        warp::reply::json(&serde_json::json!({ "confirmation_code": code }))
                            .into_response(),
                    )
                }
                .await;
                result.unwrap_or_else(|e| e.into_response())
            }
        });
    let a = app.clone();
    let deletion = warp::path!("api" / "meta" / "data-deletion")
        .and(warp::post())
        .and(capped_body(MAX_CALLBACK_BYTES))
        .then(move |body: bytes::Bytes| {
            let app = a.clone();
            async move {
                let result = async {
                    let sr = signed_request(&body)?;
                    let receipt = data_deletion::delete_user_data(&app, &sr)
                        .await
                        .map_err(callback_error)?;
                    Ok::<_, ApiError>(warp::reply::json(&receipt).into_response())
                }
                .await;
                result.unwrap_or_else(|e| e.into_response())
            }
        });
    let a = app;
    let status = warp::path!("api" / "meta" / "deletion-status")
        .and(warp::get())
        .and(warp::query::<StatusQuery>())
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
