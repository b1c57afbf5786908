//! Plumbing shared by every route: capped bodies, JSON errors, rejections.
//!
//! Bodies are read from the stream with our own cap rather than warp's
//! `content_length_limit`, because the host sends invocations chunked, without a
//! Content-Length, and that filter rejects such requests.

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use serde::Serialize;
use warp::http::StatusCode;
use warp::{Buf, Filter, Rejection, Reply};

/// An error answer: `{"error": code, "message": text a person understands}`.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl warp::reject::Reject for ApiError {}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
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
}

impl Reply for ApiError {
    fn into_response(self) -> warp::reply::Response {
        let body = ErrorBody {
            error: self.code,
            message: &self.message,
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
    } else if let Some(e) = rejection.find::<warp::reject::InvalidQuery>() {
        ApiError::bad_request(format!("The query string is malformed: {e}"))
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
