//! The security headers on every answer of the handler (the SPA's files and the API alike):
//! in Azure, Static Web Apps' `globalHeaders` do not reach the API's answers, so the binary
//! sets its own. Strict-Transport-Security only outside the local environment (plain http
//! there). A header a route set itself is kept. JSON and CSV answers (the signed-in data, the
//! downloads) get `Cache-Control: no-store` unless the route chose its own caching, so no
//! shared or browser cache keeps a shop's data.

use warp::http::header::{HeaderName, HeaderValue};

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self' https://www.instagram.com";

/// Sent on every answer; `frontend/public/staticwebapp.config.json` repeats them for Static Web Apps
/// (a test keeps the two equal).
pub const ALWAYS: [(&str, &str); 5] = [
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
    ("x-frame-options", "DENY"),
    (
        "permissions-policy",
        "camera=(), microphone=(), geolocation=()",
    ),
];

pub const HSTS: &str = "max-age=31536000; includeSubDomains";

pub fn apply(mut response: warp::reply::Response, hsts: bool) -> warp::reply::Response {
    let headers = response.headers_mut();
    let hsts_header = hsts.then_some(("strict-transport-security", HSTS));
    let is_data = headers
        .get(warp::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json") || ct.starts_with("text/csv"));
    let no_store = is_data.then_some(("cache-control", "no-store"));
    for (name, value) in ALWAYS.into_iter().chain(hsts_header).chain(no_store) {
        let name = HeaderName::from_static(name);
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    response
}
