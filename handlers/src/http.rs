//! Plumbing shared by every route: capped bodies, JSON errors, rejections.
//!
//! Bodies are read from the stream with our own cap rather than warp's
//! `content_length_limit`, because the host sends invocations chunked, without a
//! Content-Length, and that filter rejects such requests.

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use serde::de::DeserializeOwned;
use serde::Serialize;
use shared::profile::Problem;
use warp::http::StatusCode;
use warp::{Buf, Filter, Rejection, Reply};

/// An error answer: `{"error": code, "message": text a person understands}`; a 422 also
/// names each wrong field in `problems` (`[{field, message}]`).
///
/// One status per kind of error: 400 for a body or query that cannot be read, 422 for a
/// value that is well-formed but not allowed (naming the field), 401/403 for who calls,
/// 404 for what is not there (or is another shop's), 409 for a clash, 413 for a body too large.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub problems: Vec<Problem>,
}

impl warp::reject::Reject for ApiError {}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            problems: Vec::new(),
        }
    }
    /// 422: `field` holds a value that is well-formed but not allowed.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        let (field, message) = (field.into(), message.into());
        Self::invalid_all(vec![Problem { field, message }])
    }
    /// 422 naming each wrong field.
    pub fn invalid_all(problems: Vec<Problem>) -> Self {
        let message = problems
            .iter()
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect::<Vec<_>>()
            .join("; ");
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalid",
            message,
            problems,
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
    pub fn not_built(feature: &str) -> Self {
        Self::new(
            StatusCode::NOT_IMPLEMENTED,
            "not_built_yet",
            format!("{feature} is not built yet."),
        )
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorBody<'a> {
    error: &'a str,
    message: &'a str,
    /// On a 422: each wrong field.
    #[serde(skip_serializing_if = "Option::is_none")]
    problems: Option<&'a [Problem]>,
}

impl Reply for ApiError {
    fn into_response(self) -> warp::reply::Response {
        // Every 422 names what was wrong in `problems` (the document promises it); one built
        // without a field names the body as a whole.
        let fallback;
        let problems = if self.status == StatusCode::UNPROCESSABLE_ENTITY {
            if self.problems.is_empty() {
                fallback = [Problem {
                    field: "body".into(),
                    message: self.message.clone(),
                }];
                Some(&fallback[..])
            } else {
                Some(&self.problems[..])
            }
        } else {
            None
        };
        let body = ErrorBody {
            error: self.code,
            message: &self.message,
            problems,
        };
        let mut response =
            warp::reply::with_status(warp::reply::json(&body), self.status).into_response();
        if self.status == StatusCode::PAYLOAD_TOO_LARGE {
            // The rest of the body was never read: the connection cannot carry another
            // request, so say so and the client opens a fresh one instead of reusing it.
            response.headers_mut().insert(
                warp::http::header::CONNECTION,
                warp::http::HeaderValue::from_static("close"),
            );
        }
        response
    }
}

/// The request body, refused with 413 past `limit` bytes (checked on the declared length
/// first, then while reading, so a chunked body cannot get around it).
pub fn capped_body(limit: usize) -> impl Filter<Extract = (Bytes,), Error = Rejection> + Clone {
    warp::header::optional::<u64>("content-length")
        .and(warp::body::stream())
        .and_then(move |declared, stream| read_capped(declared, stream, limit))
}

async fn read_capped<S, B>(
    declared: Option<u64>,
    stream: S,
    limit: usize,
) -> Result<Bytes, Rejection>
where
    S: futures::Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    let too_large = || {
        warp::reject::custom(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("The request body is larger than the {limit} bytes this endpoint accepts."),
        ))
    };
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    futures::pin_mut!(stream);
    let mut buf = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let mut chunk = chunk.map_err(|e| {
            warp::reject::custom(ApiError::bad_request(format!(
                "The request body could not be read: {e}"
            )))
        })?;
        if buf.len() + chunk.remaining() > limit {
            return Err(too_large());
        }
        while chunk.has_remaining() {
            let piece = chunk.chunk();
            let n = piece.len();
            buf.extend_from_slice(piece);
            chunk.advance(n);
        }
    }
    Ok(buf.freeze())
}

/// The deepest nesting of arrays and objects a JSON body may have (the deepest documented
/// body, the profile, nests 4 levels).
pub const MAX_JSON_DEPTH: usize = 32;

/// The one place a JSON body becomes a value: 400 when it cannot be read (not JSON, nested
/// deeper than [`MAX_JSON_DEPTH`], not an object, or a field of the wrong type), 422 naming
/// the field when a text holds a NUL character (PostgreSQL text cannot store it).
pub fn read_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value = read_json_value(bytes)?;
    serde_json::from_value::<T>(value)
        .map_err(|e| ApiError::bad_request(format!("The request body is not valid: {e}")))
}

/// As [`read_json`], for a body kept as a JSON object value.
pub fn read_json_value(bytes: &[u8]) -> Result<serde_json::Value, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        if e.is_eof() && bytes.iter().all(u8::is_ascii_whitespace) {
            ApiError::bad_request("The request body is empty; send a JSON object.")
        } else {
            ApiError::bad_request(format!("The request body is not valid JSON: {e}"))
        }
    })?;
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "The request body must be a JSON object ({…}).",
        ));
    }
    if shared::text::depth(&value) > MAX_JSON_DEPTH {
        return Err(ApiError::bad_request(format!(
            "The request body nests deeper than {MAX_JSON_DEPTH} levels."
        )));
    }
    if let Some(field) = shared::text::path_of_nul(&value) {
        return Err(ApiError::invalid(field, shared::text::NUL_MESSAGE));
    }
    Ok(value)
}

/// The query string read into `T`, with a 400 that names the parameter it could not read
/// (warp's own `query` filter says only what went wrong, not where).
pub fn query<T: DeserializeOwned + Send + 'static>(
) -> impl Filter<Extract = (T,), Error = Rejection> + Clone {
    warp::query::raw()
        .or(warp::any().map(String::new))
        .unify()
        .and_then(|raw: String| async move { read_query::<T>(&raw).map_err(warp::reject::custom) })
}

pub fn read_query<T: DeserializeOwned>(raw: &str) -> Result<T, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw)
        .map_err(|_| ApiError::bad_request("The query string cannot be read."))?;
    if let Some((name, _)) = pairs
        .iter()
        .find(|(k, v)| k.contains('\0') || v.contains('\0'))
    {
        return Err(ApiError::bad_request(format!(
            "The query parameter {name:?} contains a NUL character."
        )));
    }
    let parse = |pairs: &[(String, String)]| {
        serde_urlencoded::from_str::<T>(&serde_urlencoded::to_string(pairs).unwrap_or_default())
    };
    match parse(&pairs) {
        Ok(v) => Ok(v),
        Err(e) => {
            // The parameter at fault is the one whose removal lets the rest be read.
            let culprit = (0..pairs.len()).find(|&i| {
                let mut rest = pairs.clone();
                rest.remove(i);
                parse(&rest).is_ok()
            });
            Err(ApiError::bad_request(match culprit {
                Some(i) => format!(
                    "The query parameter {:?} has a value that cannot be read ({:?}): {e}",
                    pairs[i].0, pairs[i].1
                ),
                None => format!("The query string cannot be read: {e}"),
            }))
        }
    }
}

/// 422 unless `per_page` is within 1..=`max` (naming the parameter).
pub fn check_per_page(per_page: Option<u32>, max: u32) -> Result<(), ApiError> {
    match per_page {
        Some(n) if !(1..=max).contains(&n) => Err(ApiError::invalid(
            "per_page",
            format!("must be from 1 to {max}, got {n}"),
        )),
        _ => Ok(()),
    }
}

/// A text body that is not JSON (YAML, CSV): UTF-8, without NUL characters.
pub fn read_text<'a>(bytes: &'a [u8], what: &str) -> Result<&'a str, ApiError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ApiError::bad_request(format!("The {what} must be UTF-8 text.")))?;
    if text.contains('\0') {
        return Err(ApiError::invalid(what, shared::text::NUL_MESSAGE));
    }
    Ok(text)
}

/// Turns every rejection into a JSON error: one place, as in warp's rejections example.
pub async fn recover(
    rejection: Rejection,
) -> Result<warp::reply::Response, std::convert::Infallible> {
    let error = if let Some(e) = rejection.find::<ApiError>() {
        e.clone()
    } else if rejection.is_not_found() {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "There is nothing at this address.",
        )
    } else if rejection.find::<warp::reject::MethodNotAllowed>().is_some() {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "This address does not accept that method.",
        )
    } else if rejection.find::<warp::reject::InvalidQuery>().is_some() {
        // Routes read their query through `query::<T>()` (which names the parameter); this
        // is only reached by a query string that is not form-encoded at all.
        ApiError::bad_request("The query string cannot be read.")
    } else if let Some(e) = rejection.find::<warp::reject::InvalidHeader>() {
        ApiError::bad_request(e.to_string())
    } else {
        tracing::warn!(?rejection, "unhandled rejection");
        ApiError::internal("Something went wrong on our side.")
    };
    Ok(error.into_response())
}

/// For the filters after a route's path has matched: any rejection becomes that route's
/// error answer, instead of letting warp try other routes (a catch-all would otherwise
/// answer a request this route refused, e.g. for a too-large body or a missing sign-in).
pub fn answer_here<F>(
    inner: F,
) -> impl Filter<Extract = (warp::reply::Response,), Error = std::convert::Infallible> + Clone
where
    F: Filter<Extract = (warp::reply::Response,), Error = Rejection>
        + Clone
        + Send
        + Sync
        + 'static,
{
    inner.recover(recover).unify()
}
