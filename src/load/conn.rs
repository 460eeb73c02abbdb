//! A keep-alive HTTP/1.1 client connection for the load tool's hot path.
//!
//! Requests are rendered to bytes once ([`Request`]) and written as they are; answers are
//! parsed with `httparse` and their bodies read by `Content-Length`, chunked coding or to the
//! end of the connection. One request at a time per connection (no pipelining), like wrk.
//! A general client (awc) costs several times more CPU per request, which would make the
//! tool, not the server, the bottleneck on the core it shares with nothing else.

use bytes::{Buf, Bytes, BytesMut};
use std::fmt::Write as _;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long one request may take, connecting included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest response head and body accepted.
const MAX_HEAD_BYTES: usize = 64 * 1024;
const MAX_BODY_BYTES: usize = 1 << 20;
const MAX_HEADERS: usize = 64;

/// A request rendered to bytes, with the `host:port` it goes to.
#[derive(Clone, Debug)]
pub struct Request {
    authority: String,
    bytes: Bytes,
}

impl Request {
    /// Renders `method url` with `headers` and `body` (a `Content-Length` is added when a
    /// body is given). Only `http://` URLs: the tool loads servers on trusted networks.
    pub fn new(
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Self, String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("bad URL {url:?}: {e}"))?;
        if parsed.scheme() != "http" {
            return Err(format!("{url}: only http:// URLs can be loaded"));
        }
        let host = parsed.host_str().ok_or_else(|| format!("{url}: no host"))?;
        let port = parsed.port_or_known_default().unwrap_or(80);
        let authority = match parsed.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        let mut target = parsed.path().to_owned();
        if let Some(query) = parsed.query() {
            target.push('?');
            target.push_str(query);
        }
        let mut head = String::with_capacity(256);
        let _ = write!(head, "{method} {target} HTTP/1.1\r\nHost: {authority}\r\n");
        for (name, value) in headers {
            if [name, value].iter().any(|s| s.contains(['\r', '\n'])) {
                return Err(format!("header {name:?} holds a line break"));
            }
            let _ = write!(head, "{name}: {value}\r\n");
        }
        if let Some(body) = body {
            let _ = write!(head, "Content-Length: {}\r\n", body.len());
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(body.unwrap_or_default());
        Ok(Self {
            authority: format!("{host}:{port}"),
            bytes: bytes.into(),
        })
    }
}

/// An answer: status and body.
pub struct Response {
    pub status: u16,
    pub body: Bytes,
}

impl Response {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// A short description for error messages.
    pub fn describe(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let text: String = text.chars().take(300).collect();
        format!("{} {}", self.status, text.trim())
    }
}

/// One keep-alive connection; reconnects when the server closed it or an error broke it.
#[derive(Default)]
pub struct Connection {
    stream: Option<(String, TcpStream)>,
    buffer: BytesMut,
}

/// How the body of an answer is delimited.
enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

impl Connection {
    /// Sends `request` and reads the answer. On error the connection is dropped, so the next
    /// request opens a new one.
    pub async fn send(&mut self, request: &Request) -> Result<Response, String> {
        match tokio::time::timeout(REQUEST_TIMEOUT, self.exchange(request)).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(why)) => {
                self.stream = None;
                Err(why)
            }
            Err(_) => {
                self.stream = None;
                Err(format!("no answer within {}s", REQUEST_TIMEOUT.as_secs()))
            }
        }
    }

    async fn exchange(&mut self, request: &Request) -> Result<Response, String> {
        let reused =
            matches!(&self.stream, Some((authority, _)) if *authority == request.authority);
        if !reused {
            let stream = TcpStream::connect(&request.authority)
                .await
                .map_err(|e| format!("connecting to {}: {e}", request.authority))?;
            let _ = stream.set_nodelay(true);
            self.stream = Some((request.authority.clone(), stream));
            self.buffer.clear();
        }
        let written = self.write(request).await;
        match written {
            // A kept-alive connection the server closed meanwhile: retry once on a new one.
            Err(_) if reused => {
                self.stream = None;
                Box::pin(self.exchange(request)).await
            }
            Err(why) => Err(why),
            Ok(()) => match self.read_response().await {
                Err(ReadError::ClosedBeforeAnswer) if reused => {
                    self.stream = None;
                    Box::pin(self.exchange(request)).await
                }
                Err(e) => Err(e.to_string()),
                Ok(response) => Ok(response),
            },
        }
    }

    async fn write(&mut self, request: &Request) -> Result<(), String> {
        let (_, stream) = self.stream.as_mut().ok_or("not connected")?;
        stream
            .write_all(&request.bytes)
            .await
            .map_err(|e| format!("sending: {e}"))
    }

    /// Reads more bytes into the buffer; `Ok(false)` at the end of the stream.
    async fn fill(&mut self) -> Result<bool, ReadError> {
        let (_, stream) = self.stream.as_mut().ok_or(ReadError::Closed)?;
        self.buffer.reserve(16 * 1024);
        let n = stream
            .read_buf(&mut self.buffer)
            .await
            .map_err(|e| ReadError::Io(e.to_string()))?;
        Ok(n > 0)
    }

    async fn read_response(&mut self) -> Result<Response, ReadError> {
        loop {
            let (status, framing, head_len, close) = {
                let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
                let mut parsed = httparse::Response::new(&mut headers);
                match parsed.parse(&self.buffer) {
                    Ok(httparse::Status::Complete(head_len)) => {
                        let status = parsed.code.unwrap_or(0);
                        let (framing, close) = framing_of(status, parsed.version, parsed.headers)?;
                        (status, framing, head_len, close)
                    }
                    Ok(httparse::Status::Partial) => {
                        if self.buffer.len() > MAX_HEAD_BYTES {
                            return Err(ReadError::Protocol("response head too large".into()));
                        }
                        if !self.fill().await? {
                            return Err(if self.buffer.is_empty() {
                                ReadError::ClosedBeforeAnswer
                            } else {
                                ReadError::Closed
                            });
                        }
                        continue;
                    }
                    Err(e) => return Err(ReadError::Protocol(format!("bad response head: {e}"))),
                }
            };
            self.buffer.advance(head_len);
            let body = match framing {
                Framing::Length(length) => self.read_exact(length).await?,
                Framing::Chunked => self.read_chunked().await?,
                Framing::UntilClose => self.read_to_close().await?,
            };
            if close || matches!(framing, Framing::UntilClose) {
                self.stream = None;
            }
            // 1xx answers (e.g. 100 Continue) come before the real one.
            if (100..200).contains(&status) {
                continue;
            }
            return Ok(Response { status, body });
        }
    }

    async fn read_exact(&mut self, length: usize) -> Result<Bytes, ReadError> {
        if length > MAX_BODY_BYTES {
            return Err(ReadError::Protocol(format!("body of {length} bytes")));
        }
        while self.buffer.len() < length {
            if !self.fill().await? {
                return Err(ReadError::Closed);
            }
        }
        Ok(self.buffer.split_to(length).freeze())
    }

    /// Reads one CRLF-terminated line (without the CRLF).
    async fn read_line(&mut self) -> Result<Bytes, ReadError> {
        loop {
            if let Some(end) = self.buffer.windows(2).position(|w| w == b"\r\n") {
                let line = self.buffer.split_to(end).freeze();
                self.buffer.advance(2);
                return Ok(line);
            }
            if self.buffer.len() > MAX_HEAD_BYTES {
                return Err(ReadError::Protocol("chunk line too long".into()));
            }
            if !self.fill().await? {
                return Err(ReadError::Closed);
            }
        }
    }

    async fn read_chunked(&mut self) -> Result<Bytes, ReadError> {
        let mut body = BytesMut::new();
        loop {
            let line = self.read_line().await?;
            let size = std::str::from_utf8(&line)
                .ok()
                .and_then(|l| usize::from_str_radix(l.split(';').next()?.trim(), 16).ok())
                .ok_or_else(|| ReadError::Protocol("bad chunk size".into()))?;
            if size == 0 {
                // Trailers, up to the empty line.
                while !self.read_line().await?.is_empty() {}
                return Ok(body.freeze());
            }
            if body.len() + size > MAX_BODY_BYTES {
                return Err(ReadError::Protocol("chunked body too large".into()));
            }
            let chunk = self.read_exact(size + 2).await?;
            body.extend_from_slice(chunk.get(..size).unwrap_or_default());
        }
    }

    async fn read_to_close(&mut self) -> Result<Bytes, ReadError> {
        while self.fill().await? {
            if self.buffer.len() > MAX_BODY_BYTES {
                return Err(ReadError::Protocol("body too large".into()));
            }
        }
        Ok(self.buffer.split().freeze())
    }
}

fn framing_of(
    status: u16,
    version: Option<u8>,
    headers: &[httparse::Header<'_>],
) -> Result<(Framing, bool), ReadError> {
    let mut length = None;
    let mut chunked = false;
    // HTTP/1.0 closes unless asked to keep alive; HTTP/1.1 keeps alive unless told to close.
    let mut close = version == Some(0);
    for header in headers {
        let value = std::str::from_utf8(header.value).unwrap_or_default().trim();
        if header.name.eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .parse::<usize>()
                    .map_err(|_| ReadError::Protocol("bad Content-Length".into()))?,
            );
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().ends_with("chunked");
        } else if header.name.eq_ignore_ascii_case("connection") {
            let value = value.to_ascii_lowercase();
            close = value.contains("close") || (close && !value.contains("keep-alive"));
        }
    }
    let framing = if (100..200).contains(&status) || status == 204 || status == 304 {
        Framing::Length(0)
    } else if chunked {
        Framing::Chunked
    } else if let Some(length) = length {
        Framing::Length(length)
    } else {
        Framing::UntilClose
    };
    Ok((framing, close))
}

#[derive(Debug, thiserror::Error)]
enum ReadError {
    #[error("connection closed before an answer")]
    ClosedBeforeAnswer,
    #[error("connection closed in the middle of an answer")]
    Closed,
    #[error("reading: {0}")]
    Io(String),
    #[error("{0}")]
    Protocol(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_renders_head_host_and_length() {
        let request = Request::new(
            "POST",
            "http://127.0.0.1:8080/a/register?x=1",
            &[("Content-Type", "application/json")],
            Some(b"{}"),
        )
        .expect("renders");
        assert_eq!(request.authority, "127.0.0.1:8080");
        assert_eq!(
            &request.bytes[..],
            b"POST /a/register?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
        );
    }

    #[test]
    fn request_refuses_https_and_header_injection() {
        assert!(Request::new("GET", "https://example.com/", &[], None).is_err());
        assert!(Request::new("GET", "http://h/", &[("X", "a\r\nY: b")], None).is_err());
    }

    #[test]
    fn framing_follows_status_length_chunked_and_close() {
        let header = |name, value: &'static str| httparse::Header {
            name,
            value: value.as_bytes(),
        };
        let (framing, close) =
            framing_of(200, Some(1), &[header("Content-Length", "12")]).expect("framing");
        assert!(matches!(framing, Framing::Length(12)) && !close);
        let (framing, _) =
            framing_of(200, Some(1), &[header("Transfer-Encoding", "chunked")]).expect("framing");
        assert!(matches!(framing, Framing::Chunked));
        let (framing, _) =
            framing_of(204, Some(1), &[header("Content-Length", "5")]).expect("framing");
        assert!(matches!(framing, Framing::Length(0)));
        let (_, close) = framing_of(200, Some(1), &[header("Connection", "close")]).expect("ok");
        assert!(close);
        let (framing, close) = framing_of(200, Some(0), &[]).expect("framing");
        assert!(matches!(framing, Framing::UntilClose) && close);
        assert!(framing_of(200, Some(1), &[header("Content-Length", "x")]).is_err());
    }
}
