//! One log line per request, as CloudWatch Logs Insights reads it (JSON): the method, the status
//! and the total time, which [`RequestLogLayer`] measures around the whole service, and what the
//! request flow says it did ([`Trace`]: the dossier number, the durations, the reason it stopped),
//! which the flow hands over in the response's extensions. Never a name, e-mail, date, address or
//! photo byte: a [`Trace`] holds field names, numbers and our own error texts only.
//!
//! Handing the facts over in the response keeps the flow free of logging: the rejected
//! alternatives were a `&mut Trace` threaded through the flow (which then owned the timing and the
//! line too), and a tracing span whose fields the flow records, which the JSON formatter prints, if
//! at all, nested under `span` rather than as the line's own fields that the logs' queries read.

use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use lambda_http::http::{Method, StatusCode};
use lambda_http::tower::{Layer, Service};
use lambda_http::{Body, Request, Response};

/// What one request did, for its log line. Holds no personal data: field names, never values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trace {
    pub dossier: Option<String>,
    pub replay: Option<bool>,
    pub attempt: Option<u8>,
    /// The names of the fields to fix, comma-separated.
    pub invalid_fields: Option<String>,
    /// Why the request stopped or a field was refused: our own error's text.
    pub error: Option<String>,
    pub body_bytes: Option<usize>,
    /// The page was built with another contract than this function's (see `form::Schema::version`):
    /// both versions, hex digits only.
    pub contract_mismatch: Option<String>,
    pub photo: Option<Duration>,
    pub store: Option<Duration>,
    /// The e-mail: `sent`, `failed` (SES refused or did not answer; `error` says why), or
    /// `limit` (sent as often as allowed already).
    pub mail: Option<&'static str>,
    pub mail_time: Option<Duration>,
}

impl Trace {
    /// The same facts, with why the request stopped.
    pub fn failed(self, error: impl Display) -> Trace {
        Trace { error: Some(error.to_string()), ..self }
    }

    /// Writes the line: at `error` level for a server error, so that an alarm can count them.
    fn emit(self, method: &Method, status: StatusCode, total: Duration) {
        let ms = |d: Option<Duration>| d.map(|d| d.as_millis() as u64);
        macro_rules! line {
            ($level:ident) => {
                tracing::$level!(
                    method = %method,
                    status = status.as_u16(),
                    dossier = self.dossier,
                    replay = self.replay,
                    attempt = self.attempt,
                    invalid_fields = self.invalid_fields,
                    error = self.error,
                    body_bytes = self.body_bytes,
                    contract_mismatch = self.contract_mismatch,
                    photo_ms = ms(self.photo),
                    store_ms = ms(self.store),
                    mail = self.mail,
                    mail_ms = ms(self.mail_time),
                    total_ms = total.as_millis() as u64,
                    "request"
                )
            };
        }
        if status.is_server_error() {
            line!(error);
        } else {
            line!(info);
        }
    }
}

/// Wraps a service in [`RequestLog`].
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestLogLayer;

impl<S> Layer<S> for RequestLogLayer {
    type Service = RequestLog<S>;

    fn layer(&self, inner: S) -> RequestLog<S> {
        RequestLog { inner }
    }
}

/// A service that logs one line per answer, with the [`Trace`] the answer carries (taken out of
/// it: nothing of it goes further).
#[derive(Debug, Clone)]
pub struct RequestLog<S> {
    inner: S,
}

impl<S: Service<Request, Response = Response<Body>>> Service<Request> for RequestLog<S> {
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = RequestLogFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> RequestLogFuture<S::Future> {
        let started = Instant::now();
        let method = request.method().clone();
        RequestLogFuture { answer: Box::pin(self.inner.call(request)), method, started }
    }
}

/// The wrapped service's answer, logged when it comes. The answer is boxed so that this future is
/// `Unpin` and needs no pin projection.
pub struct RequestLogFuture<F> {
    answer: Pin<Box<F>>,
    method: Method,
    started: Instant,
}

impl<F, E> Future for RequestLogFuture<F>
where
    F: Future<Output = Result<Response<Body>, E>>,
{
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let mut response = ready!(self.answer.as_mut().poll(cx))?;
        let trace = response.extensions_mut().remove::<Trace>().unwrap_or_default();
        trace.emit(&self.method, response.status(), self.started.elapsed());
        Poll::Ready(Ok(response))
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use lambda_http::tower::{ServiceExt, service_fn};

    use super::*;
    use crate::testing::logged;

    // Each answer gives one line with the method, the status, the total time and the trace it
    // carried, at `error` level for a server error only; the trace does not leave the layer.
    #[tokio::test]
    async fn one_line_per_answer() {
        let stored = Trace {
            dossier: Some("K7M-4QX-9TC".into()),
            replay: Some(false),
            attempt: Some(0),
            body_bytes: Some(1234),
            photo: Some(Duration::from_millis(80)),
            store: Some(Duration::from_millis(40)),
            ..Trace::default()
        };
        let unavailable = Trace { error: Some("store unavailable: timeout".into()), ..Trace::default() };
        let cases = [
            ("POST", StatusCode::CREATED, Some(stored), "INFO"),
            ("POST", StatusCode::SERVICE_UNAVAILABLE, Some(unavailable), "ERROR"),
            ("OPTIONS", StatusCode::NO_CONTENT, None, "INFO"),
        ];
        for (method, status, trace, level) in cases {
            let answer = trace.clone();
            let service = RequestLogLayer.layer(service_fn(move |_: Request| {
                let mut response = Response::new(Body::Empty);
                *response.status_mut() = status;
                if let Some(trace) = answer.clone() {
                    response.extensions_mut().insert(trace);
                }
                async move { Ok::<_, Infallible>(response) }
            }));
            let mut request = Request::default();
            *request.method_mut() = method.parse().unwrap();
            let (response, lines) = logged(service.oneshot(request)).await;
            let response = response.unwrap();
            assert!(response.extensions().get::<Trace>().is_none(), "{method} {status}");
            let [line] = lines.as_slice() else { panic!("{lines:?}") };
            let fields = &line["fields"];
            assert_eq!(line["level"], level, "{line}");
            assert_eq!(
                (fields["message"].as_str(), fields["method"].as_str()),
                (Some("request"), Some(method))
            );
            assert_eq!(fields["status"], status.as_u16(), "{line}");
            assert!(fields["total_ms"].is_u64(), "{line}");
            let trace = trace.unwrap_or_default();
            assert_eq!(fields["dossier"].as_str(), trace.dossier.as_deref(), "{line}");
            assert_eq!(fields["error"].as_str(), trace.error.as_deref(), "{line}");
            assert_eq!(fields["photo_ms"].as_u64(), trace.photo.map(|d| d.as_millis() as u64), "{line}");
            assert_eq!(fields["body_bytes"].as_u64(), trace.body_bytes.map(|n| n as u64), "{line}");
        }
    }

    // A trace that failed keeps what it had and gains the reason.
    #[test]
    fn failed_keeps_the_facts() {
        let trace = Trace { body_bytes: Some(10), ..Trace::default() }.failed("honeypot filled");
        assert_eq!(
            trace,
            Trace { body_bytes: Some(10), error: Some("honeypot filled".into()), ..Trace::default() }
        );
    }
}
