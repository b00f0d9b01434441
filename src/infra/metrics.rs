//! Prometheus metrics: what `/metrics` shows, and the few calls that record it.
//!
//! The metrics and their labels are listed in `docs/operations.md` (Metrics).

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::OnceLock;
use std::thread::LocalKey;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sqlx::PgPool;

/// Latency buckets, in seconds: most answers take a few milliseconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide recorder once and returns its handle; later calls
/// (several apps in one test process) share it.
pub fn handle() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("ledgerbot_http_request_duration_seconds".into()),
                    LATENCY_BUCKETS,
                )
                .expect("the bucket list is not empty")
                .build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder is installed; ours then stays unused
            // and /metrics shows what it can.
            let _ = metrics::set_global_recorder(recorder);
            spawn_upkeep(handle.clone());
            handle
        })
        .clone()
}

/// Histograms keep every recorded value until they are folded into their
/// buckets, which `render` does, or `run_upkeep`: without this, an instance
/// nobody scrapes would grow by 8 bytes per request forever. A plain thread
/// (with a small stack), so it outlives whichever tokio runtime came first.
fn spawn_upkeep(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .stack_size(64 * 1024)
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_EVERY);
                handle.run_upkeep();
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "no metrics upkeep thread: histograms fold only when scraped");
    }
}

/// How often histogram values are folded into buckets.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The text exposition of every metric, with the gauges of both pools (the
/// webhook's and the API's) read now.
pub fn render(webhook_pool: &PgPool, api_pool: &PgPool) -> String {
    for (name, pool) in [("webhook", webhook_pool), ("api", api_pool)] {
        let size = pool.size();
        let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX);
        metrics::gauge!("ledgerbot_db_pool_connections", "pool" => name, "state" => "in_use")
            .set(f64::from(size.saturating_sub(idle)));
        metrics::gauge!("ledgerbot_db_pool_connections", "pool" => name, "state" => "idle")
            .set(f64::from(idle));
    }
    handle().render()
}

/// Records one answered HTTP request.
pub fn http_request(route: &'static str, status: u16, elapsed: Duration) {
    let (count, duration) = cached(&REQUESTS, (route, status), || {
        (
            metrics::counter!("ledgerbot_http_requests_total", "route" => route, "status" => status.to_string()),
            metrics::histogram!("ledgerbot_http_request_duration_seconds", "route" => route),
        )
    });
    count.increment(1);
    duration.record(elapsed.as_secs_f64());
}

/// Records one update taken in, by kind and command (`none` when not a command).
pub fn update(kind: &'static str, command: &'static str) {
    cached(
        &UPDATES,
        (kind, command),
        || metrics::counter!("ledgerbot_updates_total", "kind" => kind, "command" => command),
    )
    .increment(1);
}

/// Records a handler that failed (and so rolled its update back).
pub fn handler_error(command: &'static str) {
    metrics::counter!("ledgerbot_handler_errors_total", "command" => command).increment(1);
}

/// Records one Bot API call and how it ended.
pub fn bot_api_call(method: &'static str, outcome: &'static str) {
    metrics::counter!("ledgerbot_bot_api_calls_total", "method" => method, "outcome" => outcome)
        .increment(1);
}

// Each call of `metrics::counter!` with labels builds its key (a vector of
// labels, the status as text) and looks it up in the recorder's registry
// (hashed, under a lock every thread shares): per webhook request, three
// times. The handles it returns are the registry's own (shared atomics),
// so a thread's cache of them records exactly what the macro would; label
// values are few (routes, statuses, update kinds, commands), and so are
// the entries of each worker thread's cache.
type RequestHandles = HashMap<(&'static str, u16), (metrics::Counter, metrics::Histogram)>;
type UpdateHandles = HashMap<(&'static str, &'static str), metrics::Counter>;

thread_local! {
    static REQUESTS: RefCell<RequestHandles> = RefCell::default();
    static UPDATES: RefCell<UpdateHandles> = RefCell::default();
}

/// The handles `key` names in this thread's `cache`, made by `make` (the
/// registry's lookup) the first time the thread meets `key`.
fn cached<K: Eq + Hash, V: Clone>(
    cache: &'static LocalKey<RefCell<HashMap<K, V>>>,
    key: K,
    make: impl FnOnce() -> V,
) -> V {
    cache.with_borrow_mut(|handles| handles.entry(key).or_insert_with(make).clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_handles_record_what_the_registry_renders() {
        let handle = handle();
        let record = || {
            http_request("/unit/{test}", 418, Duration::from_millis(3));
            update("unit_kind", "unit_command");
        };
        record();
        record();
        std::thread::spawn(record).join().expect("recorded");

        let text = handle.render();
        for expected in [
            r#"ledgerbot_http_requests_total{route="/unit/{test}",status="418"} 3"#,
            r#"ledgerbot_http_request_duration_seconds_bucket{route="/unit/{test}",le="0.005"} 3"#,
            r#"ledgerbot_http_request_duration_seconds_count{route="/unit/{test}"} 3"#,
            r#"ledgerbot_updates_total{kind="unit_kind",command="unit_command"} 3"#,
        ] {
            assert!(text.contains(expected), "missing {expected} in:\n{text}");
        }
    }
}
