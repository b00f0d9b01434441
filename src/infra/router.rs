//! How the route table ([`crate::front::routes`]) is matched, so that no
//! handler repeats it:
//!
//! - a path that matches no template: 404 (JSON);
//! - a path that matches, with a method the table does not list for it: 405
//!   with `Allow`, answered by the path's front end (JSON, or a page in the
//!   visitor's language);
//! - path parameters are found once, here, and read typed by the handler
//!   ([`Req::param`]): a malformed id or code is that front end's 404;
//! - the body limit: each route has one ([`DEFAULT_BODY_LIMIT`] unless the
//!   table says otherwise); a declared `Content-Length` past it is refused
//!   (413, connection closed) before a byte is read, and [`Req::bytes`], the
//!   one way to read a body, stops at it.
//!
//! Logs and metrics name a request by its route's template
//! ([`Router::name`]), never by its path: paths carry link codes.
//!
//! Matching is [`matchit`]'s radix tree: no allocation per request; the one
//! allocation is the handler's boxed future.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use http::header::{ALLOW, CONNECTION, CONTENT_LENGTH, HeaderValue};
use http::{HeaderMap, Method, Uri};
use http_body::Body as _;
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;

use crate::blocks::link_code::LinkCode;
use crate::infra::app::App;
use crate::infra::http_io::{ApiError, BoxError, HttpResponse, IntoResponse, ReqBody, Request};

/// [`Req::body_stream`] reached the route's body limit.
#[derive(Debug, thiserror::Error)]
#[error("the request body is larger than this route takes")]
pub struct BodyTooLarge;

/// The largest body a route accepts unless the table says otherwise:
/// Telegram updates, API batches and forms fit.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// The most parameters one template may have.
const MAX_PARAMS: usize = 4;

/// What every handler is turned into: a request in, a boxed future of its
/// response out (the one allocation per request).
pub type BoxFuture = Pin<Box<dyn Future<Output = HttpResponse> + Send>>;

type Handler = Box<dyn Fn(Req) -> BoxFuture + Send + Sync>;

/// A route's handler, and how its front end answers a method it does not take.
pub struct Endpoint {
    handler: Handler,
    not_allowed: fn(Req) -> BoxFuture,
}

impl Endpoint {
    /// A handler with its front end's answer to a method the path does not
    /// take (the router adds `Allow`).
    pub fn new<F, Fut>(handler: F, not_allowed: fn(Req) -> BoxFuture) -> Self
    where
        F: Fn(Req) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = HttpResponse> + Send + 'static,
    {
        Self {
            handler: Box::new(move |req| Box::pin(handler(req))),
            not_allowed,
        }
    }
}

/// A handler that answers JSON (or any response of its own): its errors
/// are [`ApiError`]s and so is its 405.
pub fn json<F, Fut, R>(handler: F) -> Endpoint
where
    F: Fn(Req) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: IntoResponse,
{
    Endpoint::new(
        move |req| {
            let answer = handler(req);
            async move { answer.await.into_response() }
        },
        |_| Box::pin(async { ApiError::MethodNotAllowed.into_response() }),
    )
}

/// The table being written; [`Table::build`] turns it into a [`Router`].
#[derive(Default)]
pub struct Table {
    routes: Vec<Route>,
    slash_prefix: Option<&'static str>,
}

struct Route {
    method: Method,
    template: &'static str,
    endpoint: Endpoint,
    body_limit: usize,
}

/// A route just added, to set its options.
pub struct RouteOptions<'a>(&'a mut Route);

impl RouteOptions<'_> {
    /// The largest body this route accepts, instead of [`DEFAULT_BODY_LIMIT`]
    /// (uploads that need more, forms that need far less).
    pub fn body_limit(self, bytes: usize) -> Self {
        self.0.body_limit = bytes;
        self
    }
}

impl Table {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// `method` on `template` (matchit syntax: `/companies/{id}`, `/qr/{code}.svg`)
    /// goes to `endpoint`; the template is also the route's name in logs and metrics.
    pub fn route(
        &mut self,
        method: Method,
        template: &'static str,
        endpoint: Endpoint,
    ) -> RouteOptions<'_> {
        self.routes.push(Route {
            method,
            template,
            endpoint,
            body_limit: DEFAULT_BODY_LIMIT,
        });
        let last = self.routes.len() - 1;
        RouteOptions(&mut self.routes[last])
    }

    /// `GET template`.
    pub fn get(&mut self, template: &'static str, endpoint: Endpoint) -> RouteOptions<'_> {
        self.route(Method::GET, template, endpoint)
    }

    /// `POST template`.
    pub fn post(&mut self, template: &'static str, endpoint: Endpoint) -> RouteOptions<'_> {
        self.route(Method::POST, template, endpoint)
    }

    /// `PUT template`.
    pub fn put(&mut self, template: &'static str, endpoint: Endpoint) -> RouteOptions<'_> {
        self.route(Method::PUT, template, endpoint)
    }

    /// `PATCH template`.
    pub fn patch(&mut self, template: &'static str, endpoint: Endpoint) -> RouteOptions<'_> {
        self.route(Method::PATCH, template, endpoint)
    }

    /// `DELETE template`.
    pub fn delete(&mut self, template: &'static str, endpoint: Endpoint) -> RouteOptions<'_> {
        self.route(Method::DELETE, template, endpoint)
    }

    /// Paths under `prefix` match with or without one trailing slash.
    pub fn ignore_trailing_slash_under(&mut self, prefix: &'static str) {
        self.slash_prefix = Some(prefix);
    }

    /// The router.
    ///
    /// # Panics
    /// When two routes conflict, a method repeats on a template, or a
    /// template has more than four parameters: the table is wrong, and the
    /// first test that starts a server says so.
    pub fn build(self) -> Router {
        let mut paths = matchit::Router::new();
        let mut entries: Vec<PathEntry> = Vec::new();
        for route in self.routes {
            let index = match entries.iter().position(|e| e.template == route.template) {
                Some(index) => index,
                None => {
                    paths
                        .insert(route.template, entries.len())
                        .unwrap_or_else(|e| panic!("route {}: {e}", route.template));
                    let names = param_names(route.template);
                    assert!(names.len() <= MAX_PARAMS, "{}", route.template);
                    entries.push(PathEntry {
                        template: route.template,
                        names,
                        methods: Vec::new(),
                        allow: HeaderValue::from_static(""),
                    });
                    entries.len() - 1
                }
            };
            let entry = &mut entries[index];
            assert!(
                entry.methods.iter().all(|(m, ..)| *m != route.method),
                "{} {} twice",
                route.method,
                route.template
            );
            entry
                .methods
                .push((route.method, route.endpoint, route.body_limit));
        }
        for entry in &mut entries {
            let allow: Vec<&str> = entry.methods.iter().map(|(m, ..)| m.as_str()).collect();
            entry.allow = HeaderValue::from_str(&allow.join(", "))
                .expect("method names are valid header values");
        }
        Router {
            paths,
            entries,
            slash_prefix: self.slash_prefix,
        }
    }
}

/// The parameter names of a template, in order: `{id}`, `{code}` (a
/// catch-all `{*rest}` is named `rest`).
fn param_names(template: &'static str) -> Vec<&'static str> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else { break };
        names.push(after[..end].trim_start_matches('*'));
        rest = &after[end + 1..];
    }
    names
}

/// The route table, matched.
pub struct Router {
    paths: matchit::Router<usize>,
    entries: Vec<PathEntry>,
    slash_prefix: Option<&'static str>,
}

struct PathEntry {
    template: &'static str,
    names: Vec<&'static str>,
    methods: Vec<(Method, Endpoint, usize)>,
    allow: HeaderValue,
}

/// The name of requests whose path matches no route.
pub const UNMATCHED: &str = "other";

impl Router {
    fn lookup<'p>(&self, path: &'p str) -> Option<(usize, matchit::Params<'_, 'p>)> {
        let found = self.paths.at(path).ok().or_else(|| {
            let trimmed = path.strip_suffix('/')?;
            let prefix = self.slash_prefix?;
            (!trimmed.is_empty() && path.starts_with(prefix))
                .then(|| self.paths.at(trimmed).ok())
                .flatten()
        })?;
        Some((*found.value, found.params))
    }

    /// The name logs and metrics record a path under: its route's template,
    /// or [`UNMATCHED`].
    pub fn name(&self, path: &str) -> &'static str {
        self.lookup(path)
            .map_or(UNMATCHED, |(index, _)| self.entries[index].template)
    }

    /// Every route, as `(method, template)`, in the table's order per path.
    pub fn routes(&self) -> impl Iterator<Item = (&Method, &'static str)> {
        self.entries
            .iter()
            .flat_map(|e| e.methods.iter().map(move |(m, ..)| (m, e.template)))
    }

    /// Answers a request: the route's handler, or 404, 405 or 413 as the
    /// module says. Returns the route's name with the answer to come.
    pub fn dispatch(&self, app: App, req: Request) -> (&'static str, BoxFuture) {
        let (head, body) = req.into_parts();
        let found = self.lookup(head.uri.path()).map(|(index, found)| {
            let path = head.uri.path();
            let mut params = Params::default();
            for (name, (_, value)) in self.entries[index].names.iter().zip(found.iter()) {
                // matchit's values are slices of the path: keep where, not what.
                let start = value.as_ptr() as usize - path.as_ptr() as usize;
                params.push(name, start, start + value.len());
            }
            (index, params)
        });
        let Some((index, params)) = found else {
            return (UNMATCHED, early(&head, DEFAULT_BODY_LIMIT, not_found));
        };
        let entry = &self.entries[index];
        let method = entry.methods.iter().find(|(m, ..)| *m == head.method);
        let body_limit = method.map_or(DEFAULT_BODY_LIMIT, |(.., limit)| *limit);
        if declared_length(&head.headers).is_some_and(|len| len > body_limit as u64) {
            return (entry.template, Box::pin(async { too_large() }));
        }
        let req = Req {
            app,
            head,
            body,
            params,
            body_limit,
        };
        let answer = match method {
            Some((_, endpoint, _)) => (endpoint.handler)(req),
            None => {
                let (_, first, _) = &entry.methods[0];
                let refusal = (first.not_allowed)(req);
                let allow = entry.allow.clone();
                Box::pin(async move {
                    let mut response = refusal.await;
                    response.headers_mut().insert(ALLOW, allow);
                    response
                })
            }
        };
        (entry.template, answer)
    }
}

fn not_found() -> HttpResponse {
    ApiError::NotFound.into_response()
}

/// 413, closing the connection: the client may still be sending, and
/// closing beats reading a huge body only to discard it.
fn too_large() -> HttpResponse {
    let mut response = ApiError::PayloadTooLarge.into_response();
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    response
}

/// An answer that needs no handler: `otherwise`, or 413 when the declared
/// body is past `limit` (checked first, as for a route).
fn early(head: &http::request::Parts, limit: usize, otherwise: fn() -> HttpResponse) -> BoxFuture {
    let too_big = declared_length(&head.headers).is_some_and(|len| len > limit as u64);
    Box::pin(async move { if too_big { too_large() } else { otherwise() } })
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// Where each path parameter is in the path.
#[derive(Clone, Copy, Debug, Default)]
struct Params {
    len: usize,
    items: [(&'static str, usize, usize); MAX_PARAMS],
}

impl Params {
    fn push(&mut self, name: &'static str, start: usize, end: usize) {
        if self.len < MAX_PARAMS {
            self.items[self.len] = (name, start, end);
            self.len += 1;
        }
    }

    fn get<'p>(&self, path: &'p str, name: &str) -> Option<&'p str> {
        self.items[..self.len]
            .iter()
            .find(|(n, ..)| *n == name)
            .and_then(|&(_, start, end)| path.get(start..end))
    }
}

/// The path names nothing that exists: a parameter that does not parse.
/// Each front end answers it with its own 404.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoSuchPath;

impl From<NoSuchPath> for ApiError {
    fn from(_: NoSuchPath) -> Self {
        Self::NotFound
    }
}

/// A path parameter's type.
pub trait FromParam: Sized {
    /// Reads the parameter; `None` makes the path a 404.
    fn from_param(text: &str) -> Option<Self>;
}

/// A database id in a path: positive, in canonical decimal (no sign, no
/// leading zero; [`crate::blocks::id`]), so that one resource has one path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Id(pub i64);

impl FromParam for Id {
    fn from_param(text: &str) -> Option<Self> {
        crate::blocks::id::parse(text).map(Id)
    }
}

impl FromParam for LinkCode {
    fn from_param(text: &str) -> Option<Self> {
        LinkCode::parse(text)
    }
}

impl FromParam for crate::blocks::invite_code::InviteCode {
    fn from_param(text: &str) -> Option<Self> {
        Self::parse(text)
    }
}

impl FromParam for String {
    fn from_param(text: &str) -> Option<Self> {
        Some(text.to_owned())
    }
}

/// A request as a handler sees it: the app, the head, the body (read under
/// the route's limit), and the path parameters.
pub struct Req {
    /// The shared state.
    pub app: App,
    head: http::request::Parts,
    body: ReqBody,
    params: Params,
    body_limit: usize,
}

impl Req {
    /// The method.
    pub fn method(&self) -> &Method {
        &self.head.method
    }

    /// The URI.
    pub fn uri(&self) -> &Uri {
        &self.head.uri
    }

    /// The path.
    pub fn path(&self) -> &str {
        self.head.uri.path()
    }

    /// The query string, if any.
    pub fn query(&self) -> Option<&str> {
        self.head.uri.query()
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.head.headers
    }

    /// An extension the server put on the request (the client's address).
    pub fn extension<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.head.extensions.get::<T>().cloned()
    }

    /// The path parameter `name` of the route's template, typed.
    ///
    /// # Errors
    /// [`NoSuchPath`] when it does not parse (or the template has no such
    /// parameter): the front end's 404.
    pub fn param<T: FromParam>(&self, name: &str) -> Result<T, NoSuchPath> {
        let text = self.params.get(self.head.uri.path(), name);
        debug_assert!(text.is_some(), "the route has no parameter {name}");
        text.and_then(T::from_param).ok_or(NoSuchPath)
    }

    /// The whole body, at most the route's limit.
    ///
    /// # Errors
    /// [`ApiError::PayloadTooLarge`] past the limit, [`ApiError::BadRequest`]
    /// when the client stops sending halfway.
    pub async fn bytes(&mut self) -> Result<Bytes, ApiError> {
        let mut buf = bytes::BytesMut::new();
        while let Some(frame) = self.body.frame().await {
            let frame = frame
                .map_err(|_| ApiError::BadRequest("the request body could not be read".into()))?;
            if let Ok(data) = frame.into_data() {
                if buf.len() + data.len() > self.body_limit {
                    return Err(ApiError::PayloadTooLarge);
                }
                buf.extend_from_slice(&data);
            }
        }
        Ok(buf.freeze())
    }

    /// The body as it arrives, chunk by chunk, for a reader that must not
    /// hold more than it needs (multipart uploads): it stops at the route's
    /// limit with [`BodyTooLarge`]; a client that stops sending halfway ends
    /// it with that error.
    pub fn body_stream(
        &mut self,
    ) -> impl futures_util::Stream<Item = Result<Bytes, BoxError>> + Send + '_ {
        let limit = self.body_limit;
        let mut read = 0usize;
        let body = &mut self.body;
        futures_util::stream::poll_fn(move |cx| {
            loop {
                let frame = match std::task::ready!(Pin::new(&mut *body).poll_frame(cx)) {
                    None => return std::task::Poll::Ready(None),
                    Some(Err(e)) => return std::task::Poll::Ready(Some(Err(e))),
                    Some(Ok(frame)) => frame,
                };
                // Trailers carry no data: read on.
                if let Ok(data) = frame.into_data() {
                    read += data.len();
                    if read > limit {
                        return std::task::Poll::Ready(Some(Err(BodyTooLarge.into())));
                    }
                    return std::task::Poll::Ready(Some(Ok(data)));
                }
            }
        })
    }

    /// The body read as JSON into `T`.
    ///
    /// # Errors
    /// 413 past the limit, 400 when the body is not JSON, 422 when it is JSON
    /// of the wrong shape (the message says which field).
    pub async fn json<T: DeserializeOwned>(&mut self) -> Result<T, ApiError> {
        let bytes = self.bytes().await?;
        serde_json::from_slice(&bytes).map_err(|e| {
            if e.is_data() {
                ApiError::Unprocessable(e.to_string())
            } else {
                ApiError::BadRequest(format!("the body is not valid JSON: {e}"))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_in_paths_are_positive_canonical_decimals() {
        assert_eq!(Id::from_param("7"), Some(Id(7)));
        assert_eq!(Id::from_param("9223372036854775807"), Some(Id(i64::MAX)));
        for (text, why) in [
            ("007", "leading zero"),
            ("0", "zero"),
            ("-7", "sign"),
            ("+7", "plus"),
            ("x", "not a number"),
            ("", "empty"),
            ("99999999999999999999", "overflow"),
        ] {
            assert_eq!(Id::from_param(text), None, "{why}: {text}");
        }
    }

    #[test]
    fn template_parameters_are_named_in_order() {
        assert_eq!(param_names("/a/{id}/b/{user_id}"), ["id", "user_id"]);
        assert_eq!(param_names("/qr/{code}.svg"), ["code"]);
        assert_eq!(param_names("/dev/bot{token}/{method}"), ["token", "method"]);
        assert!(param_names("/healthz").is_empty());
    }
}
