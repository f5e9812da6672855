//! Cross-origin rules: the site posts to the function's own URL with `fetch`, from one or more
//! origins (`ALLOWED_ORIGIN`, a list). A response echoes the request's `Origin` when it is in the
//! list and names no origin otherwise, and the preflight a browser may send first is answered here.
//! `null` may be listed: pages opened from a file (a USB key, a school's offline copy) send
//! `Origin: null`. The function's URL must then not add CORS headers of its own (Function URL CORS
//! settings left empty), or browsers would see them twice.

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};

/// The methods a page of the site may use.
const METHODS: &str = "POST, OPTIONS";
/// The request headers a page may set; both are CORS-safelisted for the values the form uses, but
/// naming them keeps a `fetch` with an explicit `Accept` or `Content-Type` working.
const HEADERS: &str = "Accept, Content-Type";
/// How long a browser may reuse a preflight answer (seconds).
const MAX_AGE: &str = "600";
/// The origin browsers send from an opaque origin, a page opened from `file://` among them.
const NULL_ORIGIN: &str = "null";

/// The origins allowed to read the function's answers, as browsers serialise them in `Origin`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedOrigins(Vec<String>);

impl AllowedOrigins {
    /// Reads a comma-separated list; spaces around entries and empty entries are ignored. Gives
    /// back the first entry that is not an origin, so that the message can quote it. `None` for
    /// a list with no entry at all.
    pub fn parse(list: &str) -> Option<Result<AllowedOrigins, String>> {
        let entries: Vec<&str> = list.split(',').map(str::trim).filter(|entry| !entry.is_empty()).collect();
        if entries.is_empty() {
            return None;
        }
        let origins = entries
            .into_iter()
            .map(|entry| parse_origin(entry).ok_or_else(|| entry.to_owned()))
            .collect::<Result<Vec<_>, _>>();
        Some(origins.map(AllowedOrigins))
    }

    /// Whether `origin` (an `Origin` header's value, or a URL's serialised origin) is allowed.
    pub fn contains(&self, origin: &str) -> bool {
        self.0.iter().any(|allowed| allowed == origin)
    }

    /// The request's `Origin` header when it is allowed: the value to echo.
    pub fn matching<'a>(&self, origin: Option<&'a HeaderValue>) -> Option<&'a HeaderValue> {
        origin.filter(|value| value.to_str().is_ok_and(|value| self.contains(value)))
    }
}

/// Reads one origin as browsers send it in the `Origin` header: scheme, host and port only, or
/// `null`. A trailing slash is forgiven; a path, query, fragment or user name is refused because
/// the browser would never send it, so CORS would silently fail.
fn parse_origin(value: &str) -> Option<String> {
    if value == NULL_ORIGIN {
        return Some(NULL_ORIGIN.to_owned());
    }
    let url = url::Url::parse(value).ok()?;
    let plain = matches!(url.scheme(), "http" | "https")
        && url.host().is_some()
        && url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none();
    plain.then(|| url.origin().ascii_serialization())
}

/// Names the request's origin on a response when it is allowed (`origin` is then `Some`).
/// `Vary: Origin` is always set, since the answer depends on the origin, so that caches do not
/// give one origin's answer to another.
pub fn allow_origin(response: &mut Response<Body>, origin: Option<&HeaderValue>) {
    let headers = response.headers_mut();
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = origin {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    }
}

/// The answer to a preflight `OPTIONS`: the methods, headers and lifetime for an allowed origin,
/// no CORS header at all for another, which makes the browser refuse the real request.
pub fn preflight(origin: Option<&HeaderValue>) -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    allow_origin(&mut response, origin);
    if origin.is_some() {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(METHODS));
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static(HEADERS));
        headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(MAX_AGE));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origins(list: &str) -> AllowedOrigins {
        AllowedOrigins::parse(list).unwrap().unwrap()
    }

    // Lists are split on commas, entries trimmed and normalised as browsers send them; `null` is kept.
    #[test]
    fn parses_lists() {
        let cases: [(&str, &[&str]); 7] = [
            ("https://lycee.example.fr", &["https://lycee.example.fr"]),
            ("https://Lycee.example.fr/", &["https://lycee.example.fr"]),
            ("http://localhost:8000", &["http://localhost:8000"]),
            ("https://example.org:443", &["https://example.org"]),
            ("http://127.0.0.1:8000,null", &["http://127.0.0.1:8000", "null"]),
            (" https://a.fr , null ,", &["https://a.fr", "null"]),
            ("null", &["null"]),
        ];
        for (list, expected) in cases {
            let expected: Vec<String> = expected.iter().map(|origin| (*origin).to_owned()).collect();
            assert_eq!(origins(list), AllowedOrigins(expected), "{list}");
        }
    }

    // A list with a bad entry is refused with that entry; a list with no entry is no list.
    #[test]
    fn refuses_bad_entries() {
        let cases = [
            ("https://a.fr/form", Some("https://a.fr/form")),
            ("*", Some("*")),
            ("ftp://a.fr", Some("ftp://a.fr")),
            ("https://a.fr,https://b.fr?x=1", Some("https://b.fr?x=1")),
            ("https://user@a.fr", Some("https://user@a.fr")),
            ("NULL", Some("NULL")),
            ("https://a.fr https://b.fr", Some("https://a.fr https://b.fr")),
            (" , ", None),
            ("", None),
        ];
        for (list, bad) in cases {
            match (AllowedOrigins::parse(list), bad) {
                (Some(Err(entry)), Some(bad)) => assert_eq!(entry, bad, "{list}"),
                (None, None) => {}
                (other, _) => panic!("{list:?} gave {other:?}"),
            }
        }
    }

    // Only an exact origin of the list is echoed: scheme, host and port all count.
    #[test]
    fn matches_request_origins() {
        let allowed = origins("http://127.0.0.1:8000,null,https://lycee.example.fr");
        let cases = [
            (Some("http://127.0.0.1:8000"), true),
            (Some("null"), true),
            (Some("https://lycee.example.fr"), true),
            (Some("http://127.0.0.1:8001"), false),
            (Some("http://localhost:8000"), false),
            (Some("http://lycee.example.fr"), false),
            (Some("https://lycee.example.fr.evil.test"), false),
            (Some(""), false),
            (None, false),
        ];
        for (origin, expected) in cases {
            let header = origin.map(|origin| HeaderValue::from_str(origin).unwrap());
            let matched = allowed.matching(header.as_ref());
            assert_eq!(matched.is_some(), expected, "{origin:?}");
            if let Some(matched) = matched {
                assert_eq!(Some(matched.to_str().unwrap()), origin);
            }
        }
        assert!(!origins("https://a.fr").contains("null"), "`null` is only allowed when listed");
    }

    // An allowed preflight names the origin, the methods, the headers and how long to keep the
    // answer; another origin gets no CORS header at all; both vary on the origin.
    #[test]
    fn preflight_headers() {
        let origin = HeaderValue::from_static("https://lycee.example.fr");
        let allowed = preflight(Some(&origin));
        let refused = preflight(None);
        let cases = [
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, Some("https://lycee.example.fr")),
            (header::ACCESS_CONTROL_ALLOW_METHODS, Some("POST, OPTIONS")),
            (header::ACCESS_CONTROL_ALLOW_HEADERS, Some("Accept, Content-Type")),
            (header::ACCESS_CONTROL_MAX_AGE, Some("600")),
        ];
        for (name, value) in cases {
            assert_eq!(allowed.headers().get(&name).map(|v| v.to_str().unwrap()), value, "{name}");
            assert!(refused.headers().get(&name).is_none(), "{name}");
        }
        for response in [&allowed, &refused] {
            assert_eq!(response.status(), StatusCode::NO_CONTENT);
            assert_eq!(response.headers()[header::VARY], "Origin");
        }
    }
}
