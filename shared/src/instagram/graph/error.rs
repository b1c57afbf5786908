//! What went wrong talking to Instagram, and what the caller should do about it.

use super::wire;
use serde::Deserialize;
use std::time::Duration;

/// How long to wait after a rate-limit answer that did not say how long.
pub const DEFAULT_RATE_LIMIT_BACKOFF: Duration = Duration::from_secs(60);

/// The longest piece of a non-JSON error body kept in an error message.
const BODY_EXCERPT_CHARS: usize = 300;

/// What the caller does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// The access token is invalid or expired: mark the tenant for reconnection, no retry.
    InvalidToken,
    /// The 24-hour messaging window is closed for this customer: no retry.
    OutsideWindow,
    /// The customer cannot be messaged (blocked us, deleted the account…): stop.
    UserUnavailable,
    /// Too many calls: retry after [`GraphError::retry_after`].
    RateLimited,
    /// A passing failure (Instagram code 2, HTTP 5xx, network, timeout): retry with backoff.
    Temporary,
    /// Retrying the same request will fail the same way.
    Permanent,
}

impl ErrorClass {
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorClass::RateLimited | ErrorClass::Temporary)
    }
}

#[derive(thiserror::Error, Debug)]
pub enum GraphError {
    /// Instagram answered with its `{"error":{…}}` object.
    #[error("Instagram refused {endpoint}: {message} (HTTP {status}, code {code}{}{})", subcode_text(.subcode), trace_text(.fbtrace_id))]
    Api {
        endpoint: String,
        status: u16,
        code: i64,
        subcode: Option<i64>,
        /// The error's `type`, e.g. `OAuthException`.
        kind: Option<String>,
        message: String,
        fbtrace_id: Option<String>,
        retry_after: Option<Duration>,
    },
    /// An HTTP failure without Instagram's error object (a proxy, an outage page…).
    #[error("Instagram answered HTTP {status} to {endpoint}: {body}")]
    Http {
        endpoint: String,
        status: u16,
        body: String,
        retry_after: Option<Duration>,
    },
    /// No answer: connection refused or reset, DNS, TLS, timeout.
    #[error("could not reach Instagram for {endpoint}{}: {detail}", if *.timed_out { " (timed out)" } else { "" })]
    Network {
        endpoint: String,
        detail: String,
        timed_out: bool,
        /// False when no connection could be made (Instagram never saw the request); true
        /// when it failed after the request left, so Instagram may have acted on it.
        request_sent: bool,
    },
    /// A successful answer that does not have the documented shape.
    #[error("unexpected answer from Instagram to {endpoint}: {detail}")]
    UnexpectedResponse { endpoint: String, detail: String },
    /// Refused before any HTTP call (text too long, too many quick replies…).
    #[error("not sent to Instagram: {0}")]
    InvalidRequest(String),
    /// The client could not be built or a request could not be formed.
    #[error("Instagram client setup: {0}")]
    Setup(String),
}

fn subcode_text(subcode: &Option<i64>) -> String {
    subcode
        .map(|s| format!(", subcode {s}"))
        .unwrap_or_default()
}

fn trace_text(fbtrace_id: &Option<String>) -> String {
    fbtrace_id
        .as_ref()
        .map(|t| format!(", fbtrace_id {t}"))
        .unwrap_or_default()
}

impl GraphError {
    pub fn class(&self) -> ErrorClass {
        match self {
            GraphError::Api {
                status,
                code,
                subcode,
                ..
            } => classify_code(*status, Some(*code), *subcode),
            GraphError::Http { status, .. } => classify_code(*status, None, None),
            GraphError::Network { .. } => ErrorClass::Temporary,
            // A send whose answer we cannot read may have been delivered: do not repeat it.
            GraphError::UnexpectedResponse { .. }
            | GraphError::InvalidRequest(_)
            | GraphError::Setup(_) => ErrorClass::Permanent,
        }
    }

    pub fn is_retryable(&self) -> bool {
        self.class().is_retryable()
    }

    /// Whether Instagram may have acted on the request although we have no answer saying so
    /// (a timeout or a reset after the request left, a success answer we cannot read). A send
    /// that failed this way must not simply be sent again.
    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self,
            GraphError::Network {
                request_sent: true,
                ..
            } | GraphError::UnexpectedResponse { .. }
        )
    }

    /// How long to wait before retrying: the `Retry-After` header when Instagram sent one,
    /// [`DEFAULT_RATE_LIMIT_BACKOFF`] for a rate limit without it, `None` when the caller's
    /// own backoff applies or no retry makes sense.
    pub fn retry_after(&self) -> Option<Duration> {
        let header = match self {
            GraphError::Api { retry_after, .. } | GraphError::Http { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        };
        match self.class() {
            ErrorClass::RateLimited => Some(header.unwrap_or(DEFAULT_RATE_LIMIT_BACKOFF)),
            ErrorClass::Temporary => header,
            _ => None,
        }
    }

    /// Instagram's error `code`, when it sent one.
    pub fn code(&self) -> Option<i64> {
        match self {
            GraphError::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Instagram's `error_subcode`, when it sent one.
    pub fn subcode(&self) -> Option<i64> {
        match self {
            GraphError::Api { subcode, .. } => *subcode,
            _ => None,
        }
    }

    /// The HTTP status of Instagram's answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            GraphError::Api { status, .. } | GraphError::Http { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Classifies an answer from its HTTP status and body (Instagram's error object or anything).
pub fn classify(status: u16, body: &str) -> ErrorClass {
    match parse_error_object(body) {
        Some(e) => classify_code(status, e.code, e.error_subcode),
        None => classify_code(status, None, None),
    }
}

/// Classifies Instagram's error `code` and `error_subcode`; the HTTP status decides when the
/// code is absent or unknown.
pub fn classify_code(status: u16, code: Option<i64>, subcode: Option<i64>) -> ErrorClass {
    match (code, subcode) {
        (Some(190), _) => ErrorClass::InvalidToken,
        (Some(10), Some(2534022 | 2018278)) => ErrorClass::OutsideWindow,
        (Some(551), _) | (Some(200), Some(1545041)) | (Some(10), Some(2018108)) => {
            ErrorClass::UserUnavailable
        }
        (Some(4 | 17 | 32 | 613), _) => ErrorClass::RateLimited,
        (Some(2), _) => ErrorClass::Temporary,
        _ => match status {
            429 => ErrorClass::RateLimited,
            500..=599 => ErrorClass::Temporary,
            _ => ErrorClass::Permanent,
        },
    }
}

#[derive(Deserialize)]
struct Envelope {
    error: ErrorObject,
}

#[derive(Deserialize)]
struct ErrorObject {
    #[serde(default)]
    message: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "wire::lenient_i64")]
    code: Option<i64>,
    #[serde(default, deserialize_with = "wire::lenient_i64")]
    error_subcode: Option<i64>,
    #[serde(default)]
    fbtrace_id: Option<String>,
}

fn parse_error_object(body: &str) -> Option<ErrorObject> {
    serde_json::from_str::<Envelope>(body).ok().map(|e| e.error)
}

/// The error for a failed answer; `scrub` removes secrets from any text taken from it.
pub(super) fn from_response(
    endpoint: String,
    status: u16,
    retry_after: Option<Duration>,
    body: &str,
    scrub: impl Fn(&str) -> String,
) -> GraphError {
    match parse_error_object(body) {
        Some(ErrorObject {
            code: Some(code),
            message,
            kind,
            error_subcode,
            fbtrace_id,
        }) => GraphError::Api {
            endpoint,
            status,
            code,
            subcode: error_subcode,
            kind: kind.map(|k| scrub(&k)),
            message: scrub(message.as_deref().unwrap_or("(no message)")),
            fbtrace_id,
            retry_after,
        },
        _ => {
            let mut excerpt: String = body.trim().chars().take(BODY_EXCERPT_CHARS).collect();
            if excerpt.len() < body.trim().len() {
                excerpt.push('…');
            }
            GraphError::Http {
                endpoint,
                status,
                body: scrub(&excerpt),
                retry_after,
            }
        }
    }
}

/// `Retry-After` as delta-seconds or an HTTP date.
pub(super) fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// `url` without its query string and fragment, for messages and logs.
pub(super) fn redact_url(url: &str) -> String {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    url[..end].to_owned()
}

/// `text` with every occurrence of the secrets replaced and the query string of every URL
/// in it removed.
pub(super) fn scrub<'a>(text: &str, secrets: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = text.to_owned();
    for secret in secrets {
        if !secret.is_empty() {
            out = out.replace(secret, "[redacted]");
        }
    }
    strip_url_queries(&out)
}

fn strip_url_queries(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        // Copy up to the end of the scheme, then the URL up to its query or its end.
        out.push_str(&rest[..at + 3]);
        rest = &rest[at + 3..];
        let url_end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`' | ')'))
            .unwrap_or(rest.len());
        let (url, after) = rest.split_at(url_end);
        out.push_str(&redact_url(url));
        rest = after;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(code: i64, subcode: Option<i64>) -> String {
        let mut error = serde_json::json!({"message": "m", "type": "OAuthException", "code": code, "fbtrace_id": "AbC"});
        if let Some(s) = subcode {
            error["error_subcode"] = s.into();
        }
        serde_json::json!({ "error": error }).to_string()
    }

    #[test]
    fn codes_map_to_classes() {
        use ErrorClass::*;
        let cases = [
            (400, 190, None, InvalidToken),
            (400, 190, Some(463), InvalidToken),
            (400, 10, Some(2534022), OutsideWindow),
            (400, 10, Some(2018278), OutsideWindow),
            (400, 551, None, UserUnavailable),
            (400, 551, Some(1545041), UserUnavailable),
            (400, 200, Some(1545041), UserUnavailable),
            (400, 10, Some(2018108), UserUnavailable),
            (400, 4, None, RateLimited),
            (400, 17, None, RateLimited),
            (400, 32, None, RateLimited),
            (400, 613, None, RateLimited),
            (500, 2, None, Temporary),
            (400, 2, None, Temporary),
            (400, 10, None, Permanent),
            (400, 200, None, Permanent),
            (400, 100, Some(2018001), Permanent),
            (500, 1, None, Temporary),
        ];
        for (status, code, subcode, class) in cases {
            assert_eq!(
                classify(status, &body(code, subcode)),
                class,
                "{status} {code} {subcode:?}"
            );
        }
    }

    #[test]
    fn status_decides_without_an_error_object() {
        assert_eq!(classify(500, "<html>oops</html>"), ErrorClass::Temporary);
        assert_eq!(classify(503, ""), ErrorClass::Temporary);
        assert_eq!(classify(429, "slow down"), ErrorClass::RateLimited);
        assert_eq!(classify(404, "{}"), ErrorClass::Permanent);
        assert_eq!(
            classify(400, r#"{"error":"invalid_request"}"#),
            ErrorClass::Permanent
        );
    }

    #[test]
    fn codes_sent_as_strings_still_count() {
        assert_eq!(
            classify(400, r#"{"error":{"code":"190","message":"x"}}"#),
            ErrorClass::InvalidToken
        );
        assert_eq!(
            classify(400, r#"{"error":{"code":10,"error_subcode":"2534022"}}"#),
            ErrorClass::OutsideWindow
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(parse_retry_after(" 120 "), Some(Duration::from_secs(120)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        let later = (chrono::Utc::now() + chrono::Duration::seconds(300)).to_rfc2822();
        let wait = parse_retry_after(&later).unwrap();
        assert!(
            wait > Duration::from_secs(290) && wait <= Duration::from_secs(300),
            "{wait:?}"
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn scrub_removes_secrets_and_query_strings() {
        let text = "error sending request for url (https://graph.example/v23.0/me?fields=x&access_token=IGTOKEN): IGTOKEN leaked, see http://h/p?q=1";
        let clean = scrub(text, ["IGTOKEN", ""]);
        assert_eq!(clean, "error sending request for url (https://graph.example/v23.0/me): [redacted] leaked, see http://h/p");
        assert_eq!(redact_url("https://a/b?c=d#e"), "https://a/b");
    }
}
