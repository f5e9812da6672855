//! Cross-origin rules: the site (one origin, `ALLOWED_ORIGIN`) posts to the function's own URL
//! with `fetch`, so every response names that origin, and the preflight a browser may send first
//! is answered here. The function's URL must then not add CORS headers of its own (Function URL
//! CORS settings left empty), or browsers would see them twice.

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};

/// The methods a page of the site may use.
const METHODS: &str = "POST, OPTIONS";
/// The request headers a page may set; both are CORS-safelisted for the values the form uses, but
/// naming them keeps a `fetch` with an explicit `Accept` or `Content-Type` working.
const HEADERS: &str = "Accept, Content-Type";
/// How long a browser may reuse a preflight answer (seconds).
const MAX_AGE: &str = "600";

/// Names the allowed origin on a response. `Vary: Origin` keeps caches from mixing origins.
pub fn allow_origin(response: &mut Response<Body>, origin: &HeaderValue) {
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
}

/// The answer to a preflight `OPTIONS`.
pub fn preflight(origin: &HeaderValue) -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    allow_origin(&mut response, origin);
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(METHODS));
    headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static(HEADERS));
    headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(MAX_AGE));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    // The preflight names the origin, the methods, the headers and how long to keep the answer.
    #[test]
    fn preflight_headers() {
        let origin = HeaderValue::from_static("https://lycee.example.fr");
        let response = preflight(&origin);
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        let expected = [
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "https://lycee.example.fr"),
            (header::ACCESS_CONTROL_ALLOW_METHODS, "POST, OPTIONS"),
            (header::ACCESS_CONTROL_ALLOW_HEADERS, "Accept, Content-Type"),
            (header::ACCESS_CONTROL_MAX_AGE, "600"),
            (header::VARY, "Origin"),
        ];
        for (name, value) in expected {
            assert_eq!(response.headers()[&name], value, "{name}");
        }
    }
}
