//! A fake Bot API server on loopback: records every call (method, token,
//! parameters) and answers like Telegram, or as a test scripts it.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// One recorded call.
#[derive(Clone, Debug)]
pub struct Call {
    /// The token in the URL (`/bot<token>/<method>`).
    pub token: String,
    /// `sendMessage`, `setWebhook`, ...
    pub method: String,
    /// The JSON parameters.
    pub params: Value,
    /// When it arrived (for the tests that measure send rates).
    pub at: std::time::Instant,
}

/// A scripted answer for the next call.
#[derive(Clone, Debug)]
pub enum Scripted {
    /// Answer with this status and JSON body.
    Reply(u16, Value),
    /// Never answer (the client's timeout must fire).
    Hang,
    /// Answer as usual, but only after this long (a call in flight).
    Slow(Duration),
}

#[derive(Default)]
struct State {
    calls: Vec<Call>,
    script: VecDeque<Scripted>,
    /// Files `getFile` knows, by `file_id`: (file path, bytes).
    files: Vec<(String, String, Bytes)>,
}

/// The fake server's handle.
#[derive(Clone)]
pub struct FakeTelegram {
    /// Base URL to put in `TELEGRAM_API_URL`.
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl FakeTelegram {
    /// Starts the server on 127.0.0.1, port 0.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake telegram");
        let addr: SocketAddr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(State::default()));
        let served = state.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let state = served.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| answer(state.clone(), req));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            url: format!("http://{addr}"),
            state,
        }
    }

    /// Queues an answer for the next call (then the default answers resume).
    pub fn script(&self, answer: Scripted) {
        self.state
            .lock()
            .expect("fake state")
            .script
            .push_back(answer);
    }

    /// Makes a file a person sent available: `getFile` with `file_id` names it, and
    /// `GET /file/bot<token>/<path>` serves `bytes`.
    pub fn serve_file(&self, file_id: &str, bytes: Vec<u8>) {
        let mut state = self.state.lock().expect("fake state");
        let path = format!("documents/file_{}", state.files.len());
        state
            .files
            .push((file_id.to_owned(), path, Bytes::from(bytes)));
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<Call> {
        self.state.lock().expect("fake state").calls.clone()
    }

    /// Waits (up to 15 s) until at least `n` calls have arrived, and returns
    /// them all; on timeout, fails naming what did arrive. The one way tests
    /// wait for calls made off the response path. Generous: four photos to
    /// one chat take over 4 s by the outbox's spacing alone.
    pub async fn wait_for_calls(&self, n: usize) -> Vec<Call> {
        let within = Duration::from_secs(15);
        let found = crate::helpers::poll_until(within, || {
            let calls = self.calls();
            async move { (calls.len() >= n).then_some(calls) }
        })
        .await;
        found.unwrap_or_else(|| {
            let calls = self.calls();
            panic!(
                "timed out after {within:?} waiting for {n} Bot API calls; {} arrived: {calls:?}",
                calls.len()
            )
        })
    }
}

async fn answer(
    state: Arc<Mutex<State>>,
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    if let Some(file) = path.strip_prefix("/file/bot") {
        // A download: not a method call, so not recorded as one.
        let file_path = file.split_once('/').map(|(_, p)| p).unwrap_or_default();
        let found = state
            .lock()
            .expect("fake state")
            .files
            .iter()
            .find(|(_, p, _)| p == file_path)
            .map(|(_, _, bytes)| bytes.clone());
        let mut response = hyper::Response::new(Full::new(found.clone().unwrap_or_default()));
        if found.is_none() {
            *response.status_mut() = hyper::StatusCode::NOT_FOUND;
        }
        return Ok(response);
    }
    let content_type = crate::helpers::header(req.headers(), "content-type");
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let params: Value = match content_type.split_once("boundary=") {
        Some((kind, boundary)) if kind.starts_with("multipart/form-data") => {
            multipart(&body, boundary.trim_matches('"'))
        }
        _ => serde_json::from_slice(&body).unwrap_or(Value::Null),
    };
    let (token, method) = path
        .strip_prefix("/bot")
        .and_then(|rest| rest.split_once('/'))
        .map(|(t, m)| (t.to_owned(), m.to_owned()))
        .unwrap_or_default();
    let scripted = {
        let mut state = state.lock().expect("fake state");
        state.calls.push(Call {
            token,
            method: method.clone(),
            params: params.clone(),
            at: std::time::Instant::now(),
        });
        state.script.pop_front()
    };
    let (status, body) = match scripted {
        Some(Scripted::Reply(status, body)) => (status, body),
        Some(Scripted::Slow(delay)) => {
            tokio::time::sleep(delay).await;
            (
                200,
                json!({"ok": true, "result": default_result(&method, &params)}),
            )
        }
        Some(Scripted::Hang) => {
            // Hanging is the scripted behaviour: the client's timeout must fire.
            tokio::time::sleep(Duration::from_secs(3600)).await;
            unreachable!("the client gave up long ago")
        }
        None if method == "getFile" => {
            let state = state.lock().expect("fake state");
            let file_id = params["file_id"].as_str().unwrap_or_default();
            match state.files.iter().find(|(id, ..)| id == file_id) {
                Some((id, path, bytes)) => (
                    200,
                    json!({"ok": true, "result": {"file_id": id, "file_unique_id": id,
                        "file_size": bytes.len(), "file_path": path}}),
                ),
                None => (
                    400,
                    json!({"ok": false, "error_code": 400, "description": "Bad Request: invalid file_id"}),
                ),
            }
        }
        None => (
            200,
            json!({"ok": true, "result": default_result(&method, &params)}),
        ),
    };
    let mut response = hyper::Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = hyper::StatusCode::from_u16(status).expect("valid status");
    Ok(response)
}

/// A `multipart/form-data` body (an upload) as JSON parameters: text
/// fields as strings; a file as `{"file_name", "content_type", "png"}`
/// (`png`: whether the body carries the PNG signature; `base64`: the file). Telegram
/// accepts only well-formed bodies, so a malformed one yields `null`.
fn multipart(body: &[u8], boundary: &str) -> Value {
    let delimiter = format!("--{boundary}");
    let text = String::from_utf8_lossy(body);
    let mut params = serde_json::Map::new();
    let mut parts = text.split(delimiter.as_str());
    if parts.next().is_none_or(|preamble| !preamble.is_empty()) {
        return Value::Null;
    }
    for part in parts {
        if part.starts_with("--") {
            return Value::Object(params);
        }
        let Some((head, content)) = part.trim_start_matches("\r\n").split_once("\r\n\r\n") else {
            return Value::Null;
        };
        let content = content.strip_suffix("\r\n").unwrap_or(content);
        // `Content-Disposition: form-data; name="photo"; filename="x.png"`
        let field = |key: &str| -> Option<String> {
            let marker = format!("; {key}=\"");
            let rest = &head[head.find(&marker)? + marker.len()..];
            Some(rest[..rest.find('"')?].to_owned())
        };
        let Some(name) = field("name") else {
            return Value::Null;
        };
        let value = match field("filename") {
            Some(file_name) => {
                // The bytes, not their lossy text, tell whether it is a PNG.
                let start = body.windows(4).position(|w| w == b"\x89PNG").is_some();
                let content_type = head
                    .lines()
                    .find_map(|l| {
                        l.strip_prefix("Content-Type: ")
                            .or_else(|| l.strip_prefix("content-type: "))
                    })
                    .map(str::trim);
                let bytes = file_bytes(body, boundary, &name).unwrap_or_default();
                json!({"file_name": file_name, "content_type": content_type, "png": start,
                       "base64": base64::engine::general_purpose::STANDARD.encode(bytes)})
            }
            None => Value::String(content.to_owned()),
        };
        params.insert(name, value);
    }
    Value::Null
}

/// The raw bytes of the file field `name` of a multipart body (the lossy
/// text above would spoil binary content), for tests that decode an upload.
fn file_bytes<'a>(body: &'a [u8], boundary: &str, name: &str) -> Option<&'a [u8]> {
    let find =
        |haystack: &[u8], needle: &[u8]| haystack.windows(needle.len()).position(|w| w == needle);
    let head = find(body, format!("name=\"{name}\"; filename=").as_bytes())?;
    let start = head + find(&body[head..], b"\r\n\r\n")? + 4;
    let end = start + find(&body[start..], format!("\r\n--{boundary}").as_bytes())?;
    Some(&body[start..end])
}

/// What Telegram returns for each method we use.
fn default_result(method: &str, params: &Value) -> Value {
    match method {
        "sendMessage" | "sendPhoto" => json!({
            "message_id": 1000,
            "date": 1_700_000_000,
            "chat": {"id": params["chat_id"], "type": "private"},
            "text": params["text"],
        }),
        _ => json!(true),
    }
}
