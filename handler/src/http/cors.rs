//! Cross-origin rules: the site posts to the function's own URL with `fetch`, from one or more
//! origins (`ALLOWED_ORIGIN`, a list). `null` may be listed: pages opened from a file (a USB key, a
//! school's offline copy) send `Origin: null`.
//!
//! [`CorsLayer`] wraps the service, as tower-http's layer of that name would: every answer varies
//! on `Origin` and names it when it is listed, and the answer to a preflight also gives the
//! methods, headers and lifetime a browser asks about. tower-http's own layer was not taken: it
//! answers every `OPTIONS` itself (200, on any path) and varies on three headers, where this
//! function answers a preflight with 204 only at its route and 404 elsewhere. So the service keeps
//! the decisions that depend on the route (it answers the preflight with [`preflight`], and
//! refuses a POST from an origin not listed), and the layer writes the headers. The function's URL
//! must then not add CORS headers of its own (Function URL CORS settings left empty), or browsers
//! would see them twice.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use lambda_http::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use lambda_http::tower::{Layer, Service};
use lambda_http::{Body, Request, Response};

/// The methods a page of the site may use.
pub const METHODS: &str = "POST, OPTIONS";
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

/// The service's answer to a preflight `OPTIONS` at its route: 204 and nothing else; [`Cors`]
/// adds what the browser reads.
pub fn preflight() -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

/// Wraps a service in [`Cors`].
#[derive(Debug, Clone)]
pub struct CorsLayer {
    origins: Arc<AllowedOrigins>,
}

impl CorsLayer {
    pub fn new(origins: AllowedOrigins) -> CorsLayer {
        CorsLayer { origins: Arc::new(origins) }
    }
}

impl<S> Layer<S> for CorsLayer {
    type Service = Cors<S>;

    fn layer(&self, inner: S) -> Cors<S> {
        Cors { inner, origins: Arc::clone(&self.origins) }
    }
}

/// A service whose answers carry the CORS headers for the request's origin.
#[derive(Debug, Clone)]
pub struct Cors<S> {
    inner: S,
    origins: Arc<AllowedOrigins>,
}

impl<S: Service<Request, Response = Response<Body>>> Service<Request> for Cors<S> {
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = CorsFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> CorsFuture<S::Future> {
        let origin = self.origins.matching(request.headers().get(header::ORIGIN)).cloned();
        let preflight = request.method() == Method::OPTIONS;
        CorsFuture { answer: Box::pin(self.inner.call(request)), origin, preflight }
    }
}

/// The wrapped service's answer, given its CORS headers when it comes. The answer is boxed so that
/// this future is `Unpin` and needs no pin projection.
pub struct CorsFuture<F> {
    answer: Pin<Box<F>>,
    /// The request's `Origin` when it is allowed.
    origin: Option<HeaderValue>,
    /// Whether the request was an `OPTIONS`.
    preflight: bool,
}

impl<F, E> Future for CorsFuture<F>
where
    F: Future<Output = Result<Response<Body>, E>>,
{
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let mut response = ready!(self.answer.as_mut().poll(cx))?;
        // An `OPTIONS` the service answered is a preflight at a route it serves; one it refused
        // (another path) gets no more than any other answer.
        let preflight = self.preflight && response.status().is_success();
        allow(response.headers_mut(), self.origin.as_ref(), preflight);
        Poll::Ready(Ok(response))
    }
}

/// Names the request's origin on an answer when it is allowed (`origin` is then `Some`), with the
/// preflight's methods, headers and lifetime if it answers one. Another origin gets no CORS header
/// at all, which makes the browser refuse to hand the answer to the page, or to send the real
/// request after a preflight. `Vary: Origin` is always set, since the answer depends on the origin,
/// so that caches do not give one origin's answer to another.
fn allow(headers: &mut HeaderMap, origin: Option<&HeaderValue>, preflight: bool) {
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    let Some(origin) = origin else { return };
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    if preflight {
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(METHODS));
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static(HEADERS));
        headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(MAX_AGE));
    }
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

    /// What the wrapped service answers to `method` from `origin`, the inner service answering
    /// `status` (204 being its answer to a preflight).
    async fn through_layer(method: &str, origin: Option<&str>, status: StatusCode) -> Response<Body> {
        use lambda_http::tower::{ServiceExt, service_fn};
        let inner = service_fn(move |_: Request| async move {
            let mut response =
                if status == StatusCode::NO_CONTENT { preflight() } else { Response::default() };
            *response.status_mut() = status;
            Ok::<_, std::convert::Infallible>(response)
        });
        let service = CorsLayer::new(origins("https://lycee.example.fr,null")).layer(inner);
        let mut request = Request::default();
        *request.method_mut() = method.parse().unwrap();
        if let Some(origin) = origin {
            request.headers_mut().insert(header::ORIGIN, HeaderValue::from_str(origin).unwrap());
        }
        service.oneshot(request).await.unwrap()
    }

    // An allowed preflight names the origin, the methods, the headers and how long to keep the
    // answer; another origin gets no CORS header at all; other answers name only the origin, and
    // an `OPTIONS` the service refuses is no preflight; every answer varies on the origin.
    #[tokio::test]
    async fn layer_headers() {
        const LYCEE: &str = "https://lycee.example.fr";
        let cases = [
            ("OPTIONS", Some(LYCEE), StatusCode::NO_CONTENT, Some(LYCEE), true),
            ("OPTIONS", Some("null"), StatusCode::NO_CONTENT, Some("null"), true),
            ("OPTIONS", Some("https://autre.example.fr"), StatusCode::NO_CONTENT, None, false),
            ("OPTIONS", None, StatusCode::NO_CONTENT, None, false),
            ("OPTIONS", Some(LYCEE), StatusCode::NOT_FOUND, Some(LYCEE), false),
            ("POST", Some(LYCEE), StatusCode::CREATED, Some(LYCEE), false),
            ("POST", Some("https://autre.example.fr"), StatusCode::FORBIDDEN, None, false),
            ("GET", Some("null"), StatusCode::METHOD_NOT_ALLOWED, Some("null"), false),
        ];
        let preflight_headers = [
            (header::ACCESS_CONTROL_ALLOW_METHODS, "POST, OPTIONS"),
            (header::ACCESS_CONTROL_ALLOW_HEADERS, "Accept, Content-Type"),
            (header::ACCESS_CONTROL_MAX_AGE, "600"),
        ];
        for (method, origin, status, echoed, preflight) in cases {
            let response = through_layer(method, origin, status).await;
            let header = |name| response.headers().get(name).map(|v: &HeaderValue| v.to_str().unwrap());
            assert_eq!(response.status(), status, "{method} from {origin:?}");
            assert_eq!(header(header::VARY), Some("Origin"), "{method} from {origin:?}");
            assert_eq!(header(header::ACCESS_CONTROL_ALLOW_ORIGIN), echoed, "{method} from {origin:?}");
            for (name, value) in &preflight_headers {
                assert_eq!(
                    header(name.clone()),
                    preflight.then_some(*value),
                    "{name}: {method} from {origin:?}"
                );
            }
        }
    }
}
