//! The HTTP server: hyper 1 connections, a tower stack around the router, and
//! graceful shutdown that lets requests in flight finish.

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::timeout::TimeoutLayer;
use tower::{ServiceBuilder, ServiceExt as _};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use std::sync::Arc;

use crate::infra::app::App;
use crate::infra::http_io::{ApiError, BoxError, ClientAddr, HttpResponse};
use crate::infra::router::Router;

/// The server's bounds.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// A request taking longer is answered 503. Telegram waits about a minute
    /// for a webhook, a person much less.
    pub request_timeout: Duration,
    /// Requests handled at once; more wait for a slot. The pool is the real limit.
    pub max_concurrent_requests: usize,
    /// How long shutdown waits for requests in flight.
    pub drain_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(15),
            max_concurrent_requests: 512,
            // fly.io follows SIGTERM with SIGKILL after its kill_timeout (5 s by default).
            drain_timeout: Duration::from_secs(4),
        }
    }
}

/// Serves `app` on `listener` with the default [`Limits`] until `shutdown`
/// completes, then stops accepting, lets requests in flight finish and returns.
///
/// # Errors
/// Only from the listener itself; a failed connection is logged and dropped.
pub async fn run(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    run_with_limits(listener, app, shutdown, Limits::default()).await
}

/// [`run`] with chosen limits.
///
/// # Errors
/// Only from the listener itself.
pub async fn run_with_limits(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()>,
    limits: Limits,
) -> std::io::Result<()> {
    // The outbox's sender lives as long as the server: it starts with it and,
    // at shutdown, stops taking messages once the requests have drained, and
    // records the calls it has in flight.
    let (stop_sender, stop) = tokio::sync::watch::channel(false);
    let sender = crate::infra::outbox::spawn(
        app.pool.clone(),
        app.bot.clone(),
        app.config.outbox,
        app.outbox.clone(),
        stop,
    );
    let router = Arc::new(crate::front::routes::table(app.config.dev_mode));
    let names = router.clone();
    let service = ServiceBuilder::new()
        .layer(SetRequestIdLayer::x_request_id(NewRequestId))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(move |req: &http::Request<hyper::body::Incoming>| {
                    request_span(&names, req)
                })
                .on_request(())
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .map_result(timeout_as_response)
        .layer(TimeoutLayer::new(limits.request_timeout))
        .layer(GlobalConcurrencyLimitLayer::new(
            limits.max_concurrent_requests,
        ))
        .service_fn(move |req: http::Request<hyper::body::Incoming>| {
            let answer = entry(&router, app.clone(), req);
            async move { Ok::<_, Infallible>(answer.await) }
        });

    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let mut http = hyper::server::conn::http1::Builder::new();
    // Bounds slow clients that open a connection and dribble headers.
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10));

    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Routes read the peer (rate limits per client) from the request's extensions.
        let service =
            service
                .clone()
                .map_request(move |mut req: http::Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(ClientAddr(peer));
                    req
                });
        let conn = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(peer = %peer, error = %e, "connection ended with an error");
            }
        });
    }

    drop(listener);
    tracing::info!(
        connections = graceful.count(),
        "shutting down: draining requests in flight"
    );
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("drained"),
        () = tokio::time::sleep(limits.drain_timeout) => tracing::warn!("drain timed out; closing remaining connections"),
    }
    let _ = stop_sender.send(true);
    if tokio::time::timeout(limits.drain_timeout, sender)
        .await
        .is_err()
    {
        tracing::warn!("outbox: calls still in flight at exit; their rows end uncertain");
    }
    Ok(())
}

/// The span every request's events belong to. Records the route template,
/// never the raw path: paths can carry link codes.
fn request_span(router: &Router, req: &http::Request<hyper::body::Incoming>) -> tracing::Span {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        method = %req.method(),
        route = router.name(req.uri().path()),
        request_id,
        // Filled in by the webhook once it knows them.
        update_id = tracing::field::Empty,
        cmd = tracing::field::Empty,
    )
}

/// A new request's id: a random (version 4) UUID from the thread's
/// generator. tower-http's `MakeRequestUuid` asks the kernel for 16 bytes
/// on every request (a `getrandom` system call); an id only has to be
/// unique (it ties a request's log lines together and is echoed in
/// `X-Request-Id`), which the thread's generator, seeded from the kernel
/// and reseeded as it goes, gives with the same odds.
#[derive(Clone, Copy, Debug, Default)]
pub struct NewRequestId;

impl NewRequestId {
    /// The id as its header value: 36 characters, lower-case hex.
    pub fn header_value() -> http::HeaderValue {
        let uuid = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
        let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        http::HeaderValue::from_str(uuid.hyphenated().encode_lower(&mut text))
            .expect("a UUID's text is a valid header value")
    }
}

impl MakeRequestId for NewRequestId {
    fn make_request_id<B>(&mut self, _: &http::Request<B>) -> Option<RequestId> {
        Some(RequestId::new(Self::header_value()))
    }
}

/// Turns the timeout layer's error into the JSON answer every error gets.
fn timeout_as_response(result: Result<HttpResponse, BoxError>) -> Result<HttpResponse, BoxError> {
    Ok(result.unwrap_or_else(|e| {
        if e.is::<tower::timeout::error::Elapsed>() {
            tracing::warn!("request timed out");
            ApiError::Unavailable.into_response()
        } else {
            ApiError::Internal(anyhow::anyhow!(e)).into_response()
        }
    }))
}

/// Bridges hyper's body to the routes' body type and records the answer's
/// metrics. The handler's future is boxed (by the router) at the bottom of
/// the stack: a request's future holds the state of its route and is
/// kilobytes large, and each layer above would otherwise copy it into its
/// own future (a memcpy per layer per request).
fn entry(
    router: &Router,
    app: App,
    req: http::Request<hyper::body::Incoming>,
) -> impl Future<Output = HttpResponse> + Send + use<> {
    let (route, answer) = router.dispatch(app, req.map(crate::infra::http_io::box_body));
    let started = std::time::Instant::now();
    async move {
        let response = answer.await;
        crate::infra::metrics::http_request(route, response.status().as_u16(), started.elapsed());
        response
    }
}

#[cfg(test)]
mod tests {
    use super::NewRequestId;

    #[test]
    fn request_ids_are_distinct_version_4_uuids() {
        let ids: std::collections::HashSet<String> = (0..10_000)
            .map(|_| {
                let value = NewRequestId::header_value();
                let text = value.to_str().expect("ASCII").to_owned();
                let uuid = uuid::Uuid::parse_str(&text).expect("a UUID");
                assert_eq!(uuid.get_version_num(), 4, "{text}");
                assert_eq!(uuid.get_variant(), uuid::Variant::RFC4122, "{text}");
                assert_eq!(
                    text,
                    uuid.hyphenated().to_string(),
                    "lower-case, hyphenated"
                );
                text
            })
            .collect();
        assert_eq!(ids.len(), 10_000);
    }
}
