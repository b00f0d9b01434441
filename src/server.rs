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
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::app::App;
use crate::http::{ApiError, BoxError, ClientAddr, HttpResponse, MAX_BODY_BYTES};

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
    let service = ServiceBuilder::new()
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_request(())
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .map_result(timeout_as_response)
        .layer(TimeoutLayer::new(limits.request_timeout))
        .layer(GlobalConcurrencyLimitLayer::new(
            limits.max_concurrent_requests,
        ))
        .service_fn(move |req: http::Request<hyper::body::Incoming>| {
            // Boxed at the bottom of the stack: a request's future holds the
            // state of every route and is kilobytes large, and each layer above
            // would otherwise copy it into its own future (a memcpy per layer
            // per request, the top user-space cost under load).
            let response = Box::pin(entry(app.clone(), req));
            async move { Ok::<_, Infallible>(response.await) }
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
    Ok(())
}

/// The span every request's events belong to. Records the route template,
/// never the raw path: paths can carry link codes.
fn request_span(req: &http::Request<hyper::body::Incoming>) -> tracing::Span {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        method = %req.method(),
        route = crate::routes::route_name(req.uri().path()),
        request_id,
        // Filled in by the webhook once it knows them.
        update_id = tracing::field::Empty,
        cmd = tracing::field::Empty,
    )
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

/// Bridges hyper's body to the routes' body type, refusing a declared
/// oversize body before reading a byte of it.
async fn entry(app: App, req: http::Request<hyper::body::Incoming>) -> HttpResponse {
    let declared = req
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_BODY_BYTES as u64) {
        let mut response = ApiError::PayloadTooLarge.into_response();
        // The client may still be sending; closing beats reading a huge body to discard it.
        response.headers_mut().insert(
            http::header::CONNECTION,
            http::HeaderValue::from_static("close"),
        );
        return response;
    }
    let route = crate::routes::route_name(req.uri().path());
    let started = std::time::Instant::now();
    let response = crate::routes::route(app, req.map(crate::http::box_body)).await;
    crate::metrics::http_request(route, response.status().as_u16(), started.elapsed());
    response
}
