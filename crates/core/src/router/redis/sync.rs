//! The background tasks of the Redis state: the mirror that keeps the local copy current, and
//! the queue that sends writes in pipelines.

use std::sync::Weak;
use std::time::Duration;

use tokio::sync::mpsc;

use super::keys::Write;
use super::{scripts, Inner};
use crate::router::state::{now_ms, RouterState, WINDOW_MS};
use crate::router::stats::TotalsSnapshot;

/// How often the local mirror is refreshed while Redis answers.
const SYNC_EVERY: Duration = Duration::from_millis(50);
/// Every this many refreshes, the totals behind `stats()` are shared (once a second).
const TOTALS_EVERY: u32 = 20;
/// The longest wait between probes while Redis does not answer.
pub(super) const PROBE_AT_MOST: Duration = Duration::from_secs(2);
/// Writes sent in one pipeline at most.
const PIPELINE_WRITES: usize = 512;
/// The fields of a slot's totals hash.
const TOTALS: [&str; 7] = [
    "calls",
    "errors",
    "input_tokens",
    "output_tokens",
    "cached_tokens",
    "reasoning_tokens",
    "cost_usd",
];

/// Keep the local mirror current: cooldowns and this minute's counts of every slot. Probes with
/// backoff while Redis does not answer; ends with the state.
pub(super) async fn mirror(state: Weak<Inner>) {
    let mut wait = SYNC_EVERY;
    let mut tick = 0u32;
    loop {
        tokio::time::sleep(wait).await;
        let Some(inner) = state.upgrade() else { return };
        let now = now_ms();
        let keys = &inner.keys;
        let slots = keys.slots.len();
        let mut pipe = redis::pipe();
        pipe.cmd("MGET");
        for d in 0..keys.deployments {
            pipe.arg(keys.cooldown(d));
        }
        pipe.cmd("MGET");
        for s in 0..slots {
            pipe.arg(keys.requests(s, now));
        }
        pipe.cmd("MGET");
        for s in 0..slots {
            pipe.arg(keys.tokens(s, now));
        }
        let mut conn = inner.conn.clone();
        let reply = tokio::time::timeout(
            Duration::from_secs(1),
            pipe.query_async::<(Vec<Option<u64>>, Vec<Option<u64>>, Vec<Option<u64>>)>(&mut conn),
        )
        .await;
        match reply {
            Ok(Ok((cooling, requests, tokens))) => {
                for (d, until) in cooling.into_iter().enumerate() {
                    if let Some(until) = until.filter(|&u| u > now) {
                        inner.local.cool_down(d, until);
                    }
                }
                for s in 0..slots {
                    let shared = (
                        requests.get(s).copied().flatten().unwrap_or(0),
                        tokens.get(s).copied().flatten().unwrap_or(0),
                    );
                    inner.local.raise_usage(s, shared, now);
                }
                inner.set_health(true, "");
                wait = SYNC_EVERY;
                tick += 1;
                if tick.is_multiple_of(TOTALS_EVERY) {
                    share_totals(&inner).await;
                }
            }
            _ => {
                inner.set_health(false, "mirror refresh failed");
                wait = (wait * 2).min(PROBE_AT_MOST);
            }
        }
    }
}

/// Send queued writes in pipelines. While Redis is down, writes are dropped: the local state
/// has them, and the shared counts of one minute matter less than never blocking a call.
pub(super) async fn drain(state: Weak<Inner>, mut queue: mpsc::UnboundedReceiver<Write>) {
    let mut batch = Vec::with_capacity(PIPELINE_WRITES);
    while queue.recv_many(&mut batch, PIPELINE_WRITES).await > 0 {
        let Some(inner) = state.upgrade() else { return };
        let mut pipe = redis::pipe();
        for w in batch.drain(..) {
            match w {
                Write::Count { key, n } => {
                    pipe.cmd("INCRBY").arg(&key).arg(n).ignore();
                    pipe.cmd("PEXPIRE").arg(&key).arg(2 * WINDOW_MS).ignore();
                }
                Write::Cooldown { key, until } => {
                    // EVAL, not EVALSHA: a pipeline cannot load a script Redis lost.
                    pipe.cmd("EVAL")
                        .arg(scripts::COOL_DOWN)
                        .arg(1)
                        .arg(key)
                        .arg(until)
                        .ignore();
                }
                Write::Cache {
                    key,
                    value,
                    expires,
                } => {
                    pipe.cmd("SET")
                        .arg(key)
                        .arg(value)
                        .arg("PXAT")
                        .arg(expires)
                        .ignore();
                }
                Write::Settle {
                    spent,
                    held,
                    estimate,
                    actual,
                    ttl_ms,
                } => {
                    pipe.cmd("EVAL")
                        .arg(scripts::SETTLE)
                        .arg(2)
                        .arg(spent)
                        .arg(held)
                        .arg(estimate)
                        .arg(actual)
                        .arg(ttl_ms)
                        .ignore();
                }
            }
        }
        let mut conn = inner.conn.clone();
        match tokio::time::timeout(Duration::from_secs(1), pipe.query_async::<()>(&mut conn)).await
        {
            Ok(Ok(())) => {}
            _ => inner.set_health(false, "write failed"),
        }
    }
}

/// Add what this process counted since the last time to every slot's shared totals, and read
/// everyone's back for `stats()`. What fails to send is counted again next time.
async fn share_totals(inner: &Inner) {
    let keys = &inner.keys;
    let slots = keys.slots.len();
    let deltas: Vec<TotalsSnapshot> = inner.unflushed.iter().map(|t| t.take()).collect();
    let mut pipe = redis::pipe();
    for (s, d) in deltas.iter().enumerate().filter(|(_, d)| d.calls > 0) {
        let key = keys.totals(s);
        let counts = [
            d.calls,
            d.errors,
            d.input_tokens,
            d.output_tokens,
            d.cached_tokens,
            d.reasoning_tokens,
        ];
        for (field, n) in TOTALS.iter().zip(counts) {
            pipe.cmd("HINCRBY").arg(&key).arg(*field).arg(n).ignore();
        }
        pipe.cmd("HINCRBYFLOAT")
            .arg(&key)
            .arg(TOTALS[6])
            .arg(d.cost_usd)
            .ignore();
    }
    for s in 0..slots {
        pipe.cmd("HMGET").arg(keys.totals(s)).arg(&TOTALS[..]);
    }
    let mut conn = inner.conn.clone();
    let reply = tokio::time::timeout(
        Duration::from_secs(1),
        pipe.query_async::<Vec<Vec<Option<String>>>>(&mut conn),
    )
    .await;
    let Ok(Ok(rows)) = reply else {
        for (s, d) in deltas.iter().enumerate() {
            inner.unflushed[s].add(d);
        }
        return;
    };
    let read = |row: &[Option<String>], i: usize| {
        row.get(i)
            .and_then(|v| v.as_deref())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let shared = rows
        .iter()
        .map(|row| {
            let n = |i| read(row, i) as u64;
            (n(0) > 0).then(|| TotalsSnapshot {
                calls: n(0),
                errors: n(1),
                input_tokens: n(2),
                output_tokens: n(3),
                cached_tokens: n(4),
                reasoning_tokens: n(5),
                total_tokens: n(2) + n(3),
                cost_usd: read(row, 6),
            })
        })
        .collect();
    *inner.shared.lock().unwrap_or_else(|p| p.into_inner()) = shared;
}
