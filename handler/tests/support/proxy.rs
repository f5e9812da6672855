//! A fault-injecting HTTP/1.1 proxy between the function's S3 client and moto_server, on a free
//! loopback port. Each test tells it, at run time, which operation to break and how: refuse the
//! connection, stop listening, close without answering, never answer, reset mid-body, stall
//! mid-body, or answer 500, 503 or S3's `SlowDown`; before forwarding (moto never sees the
//! request) or after (moto stored the object, the client gets the fault); for the first N
//! matching requests or until healed. Everything else is forwarded as is.
//!
//! Plain HTTP/1.1 is enough: the SDK sends `Content-Length` bodies (an in-memory body is never
//! aws-chunked, and aws-chunked is framed by `Content-Length` anyway); `Transfer-Encoding: chunked`
//! and `Expect: 100-continue` are handled all the same. Each request goes to moto on a connection of
//! its own with `Connection: close`, so moto's answer is read whole and re-framed with its length.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// The longest a request head may be; the SDK's are about 1 KB.
const MAX_HEAD: usize = 64 * 1024;
/// How long a held connection is kept at most, well past any SDK timeout.
const HOLD_AT_MOST: Duration = Duration::from_secs(60);
/// How long moto may take to answer one forwarded request.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(30);
/// The pause between sending part of a response and resetting, so that the client reads what was
/// sent (a reset makes the kernel drop what the client has not read yet).
const BEFORE_RESET: Duration = Duration::from_millis(100);

/// The S3 operations a fault can target, recognised by method and key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `PUT …/photo.jpg`
    PhotoWrite,
    /// `PUT …/demande.json`
    RecordWrite,
    /// `GET` of any key
    Read,
}

impl Op {
    fn matches(self, method: &str, path: &str) -> bool {
        match self {
            Op::PhotoWrite => method == "PUT" && path.ends_with("/photo.jpg"),
            Op::RecordWrite => method == "PUT" && path.ends_with("/demande.json"),
            Op::Read => method == "GET",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Op::PhotoWrite => "photo write",
            Op::RecordWrite => "record write",
            Op::Read => "read",
        }
    }
}

/// What the proxy does to a matching request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The connection is closed without a byte of answer, and the next connections the client
    /// opens are accepted and closed at once while the rule lasts (its retries are refused).
    Refuse,
    /// The connection is closed and the proxy stops listening: connecting fails outright
    /// (`ECONNREFUSED`) until [`Proxy::heal`].
    StopListening,
    /// The connection is closed without a byte of answer.
    Close,
    /// The connection is held open and never answered, until the client gives up.
    Hang,
    /// Before forwarding: part of the request body is read, then the connection is reset (RST).
    /// After: part of moto's answer is sent (for a read, the headers and half the body), then RST.
    Reset,
    /// After forwarding: the headers and half the body are sent, then nothing more (before
    /// forwarding, the same as [`Fault::Hang`]).
    Stall,
    /// An answer with this status and S3's error body for it (500 `InternalError`, 503
    /// `ServiceUnavailable`, 403 `AccessDenied`, 409 `ConditionalRequestConflict`…).
    Status(u16),
    /// S3's throttling answer: 503 with `<Code>SlowDown</Code>`.
    SlowDown,
}

impl Fault {
    pub fn label(self) -> String {
        match self {
            Fault::Refuse => "refused".into(),
            Fault::StopListening => "not listening".into(),
            Fault::Close => "closed, no answer".into(),
            Fault::Hang => "never answers".into(),
            Fault::Reset => "reset mid-body".into(),
            Fault::Stall => "stalls mid-body".into(),
            Fault::Status(code) => format!("HTTP {code}"),
            Fault::SlowDown => "503 SlowDown".into(),
        }
    }
}

/// Whether the fault strikes before the request reaches moto or after moto has answered it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Before,
    After,
}

/// How many matching requests a rule breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Times {
    /// The first n, then it forwards again (the SDK's retries can get past it).
    First(usize),
    /// Every one, until [`Proxy::heal`].
    Always,
}

impl Times {
    pub fn label(self) -> String {
        match self {
            Times::First(n) => format!("×{n}"),
            Times::Always => "×∞".into(),
        }
    }
}

struct Rule {
    op: Op,
    fault: Fault,
    phase: Phase,
    left: Times,
}

impl Rule {
    fn has_left(&self) -> bool {
        self.left != Times::First(0)
    }

    /// Uses the rule once.
    fn take(&mut self) {
        if let Times::First(n) = &mut self.left {
            *n = n.saturating_sub(1);
        }
    }
}

/// One request as the proxy saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    /// The fault applied, if any.
    pub fault: Option<(Fault, Phase)>,
}

#[derive(Default)]
struct Rules {
    rules: Vec<Rule>,
    /// Connections to accept and close at once (a [`Fault::Refuse`] rule being served); `None`
    /// for all of them.
    refusing: Option<Option<usize>>,
    seen: Vec<Seen>,
    refused_connections: usize,
}

struct State {
    upstream: SocketAddr,
    rules: Mutex<Rules>,
    listening: watch::Sender<bool>,
}

impl State {
    /// The fault for this request, if a rule matches and has uses left; logs the request.
    fn fault_for(&self, method: &str, path: &str) -> Option<(Fault, Phase)> {
        let mut rules = self.rules.lock().unwrap();
        let matching = rules.rules.iter_mut().find(|rule| rule.op.matches(method, path) && rule.has_left());
        let fault = matching.map(|rule| {
            rule.take();
            let found = (rule.fault, rule.phase, rule.left);
            if rule.fault == Fault::Refuse {
                // This request is the first refusal; the rest of the rule is spent on the
                // connections the client opens next, refused at accept.
                rule.left = Times::First(0);
            }
            found
        });
        if let Some((Fault::Refuse, _, left)) = fault {
            rules.refusing = Some(match left {
                Times::First(n) => Some(n),
                Times::Always => None,
            });
        }
        let fault = fault.map(|(fault, phase, _)| (fault, phase));
        rules.seen.push(Seen { method: method.to_owned(), path: path.to_owned(), fault });
        fault
    }

    /// Whether a new connection is to be refused, using up one refusal.
    fn refuse_connection(&self) -> bool {
        let mut rules = self.rules.lock().unwrap();
        let refuse = match &mut rules.refusing {
            None | Some(Some(0)) => false,
            Some(None) => true,
            Some(Some(n)) => {
                *n -= 1;
                true
            }
        };
        if refuse {
            rules.refused_connections += 1;
        }
        refuse
    }
}

/// The proxy; stops (its listener and every connection) when dropped.
pub struct Proxy {
    /// `http://127.0.0.1:<port>`, for the S3 client.
    pub endpoint: String,
    state: Arc<State>,
    server: JoinHandle<()>,
}

impl Proxy {
    /// Starts a proxy to the server at `upstream` (`http://127.0.0.1:<port>`), forwarding all.
    pub async fn start(upstream: &str) -> Proxy {
        let upstream: SocketAddr = upstream
            .strip_prefix("http://")
            .and_then(|address| address.parse().ok())
            .unwrap_or_else(|| panic!("the proxy forwards to `http://<ip>:<port>`, not `{upstream}`"));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (listening, watch) = watch::channel(true);
        let state = Arc::new(State { upstream, rules: Mutex::default(), listening });
        let server = tokio::spawn(serve(Arc::clone(&state), listener, address, watch));
        Proxy { endpoint: format!("http://{address}"), state, server }
    }

    /// Breaks `op` with `fault`, in `phase`, `times` over. Rules are tried in the order given.
    pub fn inject(&self, op: Op, fault: Fault, phase: Phase, times: Times) {
        let rule = Rule { op, fault, phase, left: times };
        self.state.rules.lock().unwrap().rules.push(rule);
    }

    /// Forwards everything again, and listens again if it had stopped (returns once it does).
    pub async fn heal(&self) {
        {
            let mut rules = self.state.rules.lock().unwrap();
            rules.rules.clear();
            rules.refusing = None;
        }
        self.state.listening.send_replace(true);
        let address = self.endpoint.trim_start_matches("http://");
        for _ in 0..100 {
            // A probe connection, closed at once: served as a client that sent nothing.
            if TcpStream::connect(address).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the proxy did not listen again on {address}");
    }

    /// Every request seen so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.rules.lock().unwrap().seen.clone()
    }

    /// How many times a fault struck: requests broken plus connections refused.
    pub fn faults(&self) -> usize {
        let rules = self.state.rules.lock().unwrap();
        rules.seen.iter().filter(|seen| seen.fault.is_some()).count() + rules.refused_connections
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // Dropping the server task drops its listener and its set of connections, which aborts them.
        self.server.abort();
    }
}

/// Accepts connections, or stops listening while told to (every open connection closed with it).
async fn serve(
    state: Arc<State>,
    listener: TcpListener,
    address: SocketAddr,
    mut watch: watch::Receiver<bool>,
) {
    let mut listener = Some(listener);
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let Some(open) = &listener else {
            if watch.wait_for(|listening| *listening).await.is_err() {
                return;
            }
            // The same port, so the client's endpoint is still right (SO_REUSEADDR is set by tokio).
            listener = Some(TcpListener::bind(address).await.expect("the proxy's port is free again"));
            continue;
        };
        tokio::select! {
            accepted = open.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                if !*watch.borrow() {
                    continue;
                }
                if state.refuse_connection() {
                    drop(stream);
                    continue;
                }
                connections.spawn(connection(Arc::clone(&state), stream));
            }
            changed = watch.changed() => {
                if changed.is_err() {
                    return;
                }
                if !*watch.borrow_and_update() {
                    listener = None;
                    connections.abort_all();
                }
            }
        }
    }
}

/// A request as read from the client.
struct Request {
    method: String,
    target: String,
    version: String,
    headers: Vec<(String, String)>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    fn content_length(&self) -> usize {
        self.header("content-length").and_then(|v| v.trim().parse().ok()).unwrap_or(0)
    }

    fn is_chunked(&self) -> bool {
        self.header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    }

    /// The head sent to moto: hop-by-hop headers dropped, `Connection: close` added.
    fn upstream_head(&self) -> Vec<u8> {
        let mut head = format!("{} {} {}\r\n", self.method, self.target, self.version);
        for (name, value) in &self.headers {
            if !is_hop_by_hop(name) && !name.eq_ignore_ascii_case("expect") {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        head.push_str("Connection: close\r\n\r\n");
        head.into_bytes()
    }
}

fn is_hop_by_hop(name: &str) -> bool {
    ["connection", "keep-alive", "proxy-connection"].iter().any(|hop| name.eq_ignore_ascii_case(hop))
}

/// A client connection with what has been read from it but not used yet.
struct Conn {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Conn {
    /// Reads more bytes; false at the end of the stream.
    async fn fill(&mut self) -> io::Result<bool> {
        let mut chunk = [0u8; 16 * 1024];
        let read = self.stream.read(&mut chunk).await?;
        self.buffer.extend_from_slice(&chunk[..read]);
        Ok(read > 0)
    }

    /// The next request head, `None` when the client closed between requests.
    async fn head(&mut self) -> io::Result<Option<Request>> {
        loop {
            if let Some(end) = find(&self.buffer, b"\r\n\r\n") {
                let head: Vec<u8> = self.buffer.drain(..end + 4).collect();
                return parse_request(&head).map(Some);
            }
            if self.buffer.len() > MAX_HEAD {
                return Err(io::Error::other("request head too long"));
            }
            if !self.fill().await? {
                return if self.buffer.is_empty() {
                    Ok(None)
                } else {
                    Err(io::ErrorKind::UnexpectedEof.into())
                };
            }
        }
    }

    async fn take(&mut self, count: usize) -> io::Result<Vec<u8>> {
        while self.buffer.len() < count {
            if !self.fill().await? {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        Ok(self.buffer.drain(..count).collect())
    }

    async fn line(&mut self) -> io::Result<Vec<u8>> {
        loop {
            if let Some(end) = find(&self.buffer, b"\r\n") {
                return Ok(self.buffer.drain(..end + 2).collect());
            }
            if !self.fill().await? {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    /// The request body exactly as sent (chunk framing included), to forward unchanged.
    async fn body(&mut self, request: &Request) -> io::Result<Vec<u8>> {
        if !request.is_chunked() {
            return self.take(request.content_length()).await;
        }
        let mut raw = Vec::new();
        loop {
            let line = self.line().await?;
            let size = std::str::from_utf8(&line)
                .ok()
                .and_then(|line| usize::from_str_radix(line.trim().split(';').next()?.trim(), 16).ok())
                .ok_or_else(|| io::Error::other("bad chunk size"))?;
            raw.extend_from_slice(&line);
            if size == 0 {
                // Trailers, then the empty line that ends the body.
                loop {
                    let trailer = self.line().await?;
                    raw.extend_from_slice(&trailer);
                    if trailer == b"\r\n" {
                        return Ok(raw);
                    }
                }
            }
            raw.extend_from_slice(&self.take(size + 2).await?);
        }
    }

    /// Keeps the connection open, reading and dropping whatever comes, until the client leaves.
    async fn hold(mut self) {
        let _ = tokio::time::timeout(HOLD_AT_MOST, async {
            while let Ok(true) = self.fill().await {
                self.buffer.clear();
            }
        })
        .await;
    }

    /// Sends `bytes`, waits for the client to read them, then resets the connection (RST).
    async fn reset_after(mut self, bytes: &[u8]) {
        if !bytes.is_empty() {
            let _ = self.stream.write_all(bytes).await;
            let _ = self.stream.flush().await;
            tokio::time::sleep(BEFORE_RESET).await;
        }
        reset(self.stream);
    }
}

/// Closes with RST rather than FIN: linger on, with a zero timeout, then drop.
fn reset(stream: TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

fn parse_request(head: &[u8]) -> io::Result<Request> {
    let text = std::str::from_utf8(head).map_err(io::Error::other)?;
    let mut lines = text.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let (Some(method), Some(target), Some(version)) = (first.next(), first.next(), first.next()) else {
        return Err(io::Error::other(format!("bad request line in {text:?}")));
    };
    let headers = lines
        .filter(|line| !line.is_empty())
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    Ok(Request { method: method.to_owned(), target: target.to_owned(), version: version.to_owned(), headers })
}

/// Serves one client connection, request after request.
async fn connection(state: Arc<State>, stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut conn = Conn { stream, buffer: Vec::new() };
    loop {
        let request = match conn.head().await {
            Ok(Some(request)) => request,
            _ => return,
        };
        if request.header("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
            && conn.stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await.is_err()
        {
            return;
        }
        let fault = state.fault_for(&request.method, request.path());
        if let Some((fault, Phase::Before)) = fault {
            match fault {
                // The body is read first so that closing sends a plain FIN (closing with unread
                // data would send RST, which is the next fault).
                Fault::Refuse | Fault::Close => {
                    let _ = conn.body(&request).await;
                    return;
                }
                Fault::StopListening => {
                    state.listening.send_replace(false);
                    return;
                }
                Fault::Hang | Fault::Stall => return conn.hold().await,
                Fault::Reset => {
                    // Half the body in, then the connection breaks (at once for a bodiless GET).
                    let half = request.content_length() / 2;
                    let _ = conn.take(half).await;
                    return reset(conn.stream);
                }
                Fault::Status(_) | Fault::SlowDown => {
                    if conn.body(&request).await.is_err() {
                        return;
                    }
                    if conn.stream.write_all(&error_response(fault)).await.is_err() {
                        return;
                    }
                    continue;
                }
            }
        }
        let Ok(body) = conn.body(&request).await else { return };
        let Ok(answer) = forward(state.upstream, &request, &body).await else { return };
        let Some((fault, _)) = fault else {
            if conn.stream.write_all(&answer.bytes).await.is_err() {
                return;
            }
            continue;
        };
        // After forwarding: moto has done the work, the client gets the fault instead.
        match fault {
            Fault::Refuse | Fault::Close => return,
            Fault::StopListening => {
                state.listening.send_replace(false);
                return;
            }
            Fault::Hang => return conn.hold().await,
            Fault::Reset => return conn.reset_after(answer.part()).await,
            Fault::Stall => {
                let _ = conn.stream.write_all(answer.part()).await;
                return conn.hold().await;
            }
            Fault::Status(_) | Fault::SlowDown => {
                if conn.stream.write_all(&error_response(fault)).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Moto's answer, re-framed for the client.
struct Answer {
    bytes: Vec<u8>,
    head_len: usize,
}

impl Answer {
    /// What a connection cut mid-answer delivers: the head and half the body, or half the head
    /// when there is no body (a whole head with `Content-Length: 0` would be a whole answer).
    fn part(&self) -> &[u8] {
        let body_len = self.bytes.len() - self.head_len;
        let cut = if body_len == 0 { self.head_len / 2 } else { self.head_len + body_len / 2 };
        &self.bytes[..cut]
    }
}

/// Sends one request to moto on a connection of its own and reads the whole answer.
async fn forward(upstream: SocketAddr, request: &Request, body: &[u8]) -> io::Result<Answer> {
    let exchange = async {
        let mut moto = TcpStream::connect(upstream).await?;
        moto.write_all(&request.upstream_head()).await?;
        moto.write_all(body).await?;
        let mut raw = Vec::new();
        moto.read_to_end(&mut raw).await?;
        parse_answer(&raw, request.method == "HEAD")
    };
    tokio::time::timeout(UPSTREAM_TIMEOUT, exchange)
        .await
        .map_err(|_| io::Error::other("moto did not answer"))?
}

/// Parses moto's answer (read to its end) and writes it back with a `Content-Length`.
fn parse_answer(raw: &[u8], head_only: bool) -> io::Result<Answer> {
    let mut rest = raw;
    // Skip interim answers (100 Continue), which the client was already given or never asked for.
    loop {
        let end = find(rest, b"\r\n\r\n").ok_or_else(|| io::Error::other("moto's answer has no head"))?;
        let head = std::str::from_utf8(&rest[..end]).map_err(io::Error::other)?;
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status: u16 = status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let after = &rest[end + 4..];
        if (100..200).contains(&status) {
            rest = after;
            continue;
        }
        let headers: Vec<(&str, &str)> =
            lines.filter_map(|line| line.split_once(':')).map(|(n, v)| (n.trim(), v.trim())).collect();
        let value = |name: &str| headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| *v);
        let bodiless = head_only || status == 204 || status == 304;
        let body = if bodiless {
            Vec::new()
        } else if value("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
            dechunk(after)?
        } else if let Some(length) = value("content-length").and_then(|v| v.parse::<usize>().ok()) {
            after.get(..length).ok_or_else(|| io::Error::other("moto's answer is cut short"))?.to_vec()
        } else {
            after.to_vec()
        };
        let mut out = format!("{status_line}\r\n");
        for (name, value) in &headers {
            let framing =
                name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("transfer-encoding");
            if !framing && !is_hop_by_hop(name) {
                out.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        if !bodiless || head_only {
            let length = if head_only {
                value("content-length").unwrap_or("0").to_owned()
            } else {
                body.len().to_string()
            };
            out.push_str(&format!("Content-Length: {length}\r\n"));
        }
        out.push_str("\r\n");
        let head_len = out.len();
        return Ok(Answer { bytes: [out.into_bytes(), body].concat(), head_len });
    }
}

/// The data of a chunked body.
fn dechunk(mut raw: &[u8]) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let end = find(raw, b"\r\n").ok_or_else(|| io::Error::other("bad chunk"))?;
        let size = std::str::from_utf8(&raw[..end])
            .ok()
            .and_then(|line| usize::from_str_radix(line.split(';').next()?.trim(), 16).ok())
            .ok_or_else(|| io::Error::other("bad chunk size"))?;
        raw = &raw[end + 2..];
        if size == 0 {
            return Ok(body);
        }
        body.extend_from_slice(raw.get(..size).ok_or_else(|| io::Error::other("chunk cut short"))?);
        raw = raw.get(size + 2..).unwrap_or_default();
    }
}

/// The answer S3 gives for `fault`, with its XML error body.
fn error_response(fault: Fault) -> Vec<u8> {
    let (status, reason, code, message) = match fault {
        Fault::SlowDown => (503, "Slow Down", "SlowDown", "Please reduce your request rate."),
        Fault::Status(503) => {
            (503, "Service Unavailable", "ServiceUnavailable", "Service is unable to handle request.")
        }
        Fault::Status(403) => (403, "Forbidden", "AccessDenied", "Access Denied"),
        Fault::Status(409) => (
            409,
            "Conflict",
            "ConditionalRequestConflict",
            "A conflicting conditional operation is currently in progress against this resource.",
        ),
        Fault::Status(500) => (
            500,
            "Internal Server Error",
            "InternalError",
            "We encountered an internal error. Please try again.",
        ),
        Fault::Status(other) => (other, "Error", "InternalError", "Injected by the test proxy."),
        _ => unreachable!("{fault:?} is not an answer"),
    };
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message>\
         <RequestId>PROXY0000000000</RequestId><HostId>proxy</HostId></Error>"
    );
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/xml\r\nx-amz-request-id: PROXY0000000000\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
