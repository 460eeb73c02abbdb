//! One deadline per request (issue 8): a request's head and body together must arrive within
//! `--request-timeout`, counted from the request's first byte.
//!
//! actix times only the head of a connection's *first* request (`client_request_timeout`): the
//! head of a keep-alive request may trickle in for ever, and no body is timed at all. So every
//! connection's stream is a [`DeadlineStream`]. It starts the request's clock when the first
//! byte arrives after the previous response, and fails the read, which closes the connection,
//! when the head is not complete by then. [`track`] tells the clock when the head has reached
//! the app and when the response is ready; the body extractor reads the body within what is
//! left of the same budget ([`time_left`]) and answers 408 when it runs out.

use actix_rt::net::TcpStream;
use actix_rt::time::{sleep_until, Instant, Sleep};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::HttpRequest;
use std::cell::Cell;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{ready, Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Where a connection's current request stands. One per connection, shared by its stream and
/// its requests (a worker is single-threaded, so `Rc` and `Cell` suffice).
pub struct RequestClock {
    budget: Duration,
    phase: Cell<Phase>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Between requests: nothing is due (the keep-alive timeout bounds the wait).
    Idle,
    /// The head is arriving; the whole request is due at `due`.
    Head { due: Instant },
    /// The app has the head; the body is due at `due`.
    Handling { due: Instant },
}

impl RequestClock {
    fn new(budget: Duration) -> Self {
        Self {
            budget,
            phase: Cell::new(Phase::Idle),
        }
    }

    /// A byte arrived: starts the clock unless a request is already under way.
    fn byte_arrived(&self, now: Instant) -> Option<Instant> {
        if self.phase.get() != Phase::Idle {
            return None;
        }
        let due = now + self.budget;
        self.phase.set(Phase::Head { due });
        Some(due)
    }

    /// The head reached the app. A head that was read together with the previous request
    /// (pipelining) never passed through [`Self::byte_arrived`]; its clock starts now.
    fn head_received(&self, now: Instant) {
        let due = match self.phase.get() {
            Phase::Head { due } | Phase::Handling { due } => due,
            Phase::Idle => now + self.budget,
        };
        self.phase.set(Phase::Handling { due });
    }

    fn response_ready(&self) {
        self.phase.set(Phase::Idle);
    }

    fn head_due(&self) -> Option<Instant> {
        match self.phase.get() {
            Phase::Head { due } => Some(due),
            _ => None,
        }
    }

    fn body_due(&self) -> Option<Instant> {
        match self.phase.get() {
            Phase::Handling { due } => Some(due),
            _ => None,
        }
    }
}

/// A connection's TCP stream with its [`RequestClock`]: a head still incomplete at its
/// deadline fails the read with `TimedOut`, and actix then drops the connection.
pub struct DeadlineStream {
    io: TcpStream,
    clock: Rc<RequestClock>,
    timer: Pin<Box<Sleep>>,
}

impl DeadlineStream {
    pub fn new(io: TcpStream, budget: Duration) -> Self {
        Self {
            io,
            clock: Rc::new(RequestClock::new(budget)),
            timer: Box::pin(sleep_until(Instant::now())),
        }
    }

    /// The clock, for the connection's requests (actix's per-connection data).
    pub fn clock(&self) -> Rc<RequestClock> {
        Rc::clone(&self.clock)
    }

    pub fn peer_addr(&self) -> Option<std::net::SocketAddr> {
        self.io.peer_addr().ok()
    }
}

impl AsyncRead for DeadlineStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // Polling the timer also registers the waker: a client that goes silent mid-head is
        // still cut at the deadline.
        if let Some(due) = this.clock.head_due() {
            if this.timer.as_mut().poll(cx).is_ready() {
                if Instant::now() >= due {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the request head did not arrive within the request timeout",
                    )));
                }
                // It was still set for an earlier request (below): now for this one.
                this.timer.as_mut().reset(due);
                let _ = this.timer.as_mut().poll(cx);
            }
        }
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.io).poll_read(cx, buf))?;
        if buf.filled().len() > before {
            let now = Instant::now();
            if let Some(due) = this.clock.byte_arrived(now) {
                // Re-arming costs a trip through tokio's timer wheel. A timer still set for an
                // earlier request's deadline fires before this one's and is re-armed then
                // (above), so a busy keep-alive connection re-arms about once per timeout
                // instead of once per request.
                if this.timer.deadline() <= now {
                    this.timer.as_mut().reset(due);
                }
                // Pending (the deadline lies ahead); this registers the waker.
                let _ = this.timer.as_mut().poll(cx);
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for DeadlineStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// Tells the connection's clock that the head reached the app (from here the body extractor
/// keeps the deadline, so a slow handler is never cut) and that the response is ready (the
/// next request's clock starts with its first byte).
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let clock = req.conn_data::<Rc<RequestClock>>().cloned();
    if let Some(clock) = &clock {
        clock.head_received(Instant::now());
    }
    let response = next.call(req).await;
    if let Some(clock) = clock {
        clock.response_ready();
    }
    response
}

/// What is left of the request's budget for its body; `None` when the request did not come
/// through a [`DeadlineStream`] (the caller then allows the whole timeout).
pub fn time_left(req: &HttpRequest) -> Option<Duration> {
    let due = req.conn_data::<Rc<RequestClock>>()?.body_due()?;
    Some(due.saturating_duration_since(Instant::now()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUDGET: Duration = Duration::from_secs(10);

    #[test]
    fn the_clock_starts_at_the_first_byte_and_runs_through_the_body() {
        let clock = RequestClock::new(BUDGET);
        let start = Instant::now();
        assert_eq!(clock.byte_arrived(start), Some(start + BUDGET));
        assert_eq!(
            clock.byte_arrived(start + Duration::from_secs(3)),
            None,
            "later bytes of the same request do not restart it"
        );
        clock.head_received(start + Duration::from_secs(6));
        assert_eq!(
            clock.head_due(),
            None,
            "the stream no longer times the head"
        );
        assert_eq!(
            clock.body_due(),
            Some(start + BUDGET),
            "one budget, not two"
        );
    }

    #[test]
    fn the_next_request_gets_a_fresh_budget_from_its_own_first_byte() {
        let clock = RequestClock::new(BUDGET);
        let start = Instant::now();
        clock.byte_arrived(start);
        clock.head_received(start);
        clock.response_ready();
        assert_eq!(clock.body_due(), None);
        let later = start + Duration::from_secs(30);
        assert_eq!(clock.byte_arrived(later), Some(later + BUDGET));
    }

    #[test]
    fn a_pipelined_head_starts_its_clock_when_it_reaches_the_app() {
        let clock = RequestClock::new(BUDGET);
        let now = Instant::now();
        clock.head_received(now);
        assert_eq!(clock.body_due(), Some(now + BUDGET));
    }
}
