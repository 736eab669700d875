//! The Redis backend of the router state against a real `redis-server` (Debian's package, which
//! `scripts/install-redis.sh` installs), started on a free 127.0.0.1 port. Two `RedisState`s in one
//! namespace stand for two processes.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use switchyard_core::router::redis::{RedisOptions, RedisState, RedisTarget};
use switchyard_core::router::state::{now_ms, Admission, Admitted, Budget, RateLimit, RouterState};

struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_redis() -> Server {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    // Held from here on, so the server is killed and waited for on every path.
    let server = Server {
        child: Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is installed (bash scripts/install-redis.sh)"),
        port,
    };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return server;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("redis-server did not start");
}

fn state(port: u16, namespace: &str) -> RedisState {
    let options = RedisOptions {
        target: RedisTarget::Parts {
            host: "127.0.0.1".into(),
            port,
            username: None,
            password: None,
            tls: false,
        },
        ca_cert: None,
        namespace: namespace.into(),
        timeout: Duration::from_secs(1),
    };
    RedisState::connect(&options, vec!["d0".into(), "group:g".into()], 1, 16).expect("connects")
}

fn admission<'a>(
    reserve: &'a [(usize, Option<u64>)],
    budgets: &'a [Budget],
    estimate: f64,
) -> Admission<'a> {
    Admission {
        cache_key: None,
        reserve,
        budgets,
        estimate_usd: estimate,
        limits: &[],
        now: now_ms(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_one_rpm_limit_exactly() {
    let server = start_redis();
    let (a, b) = (state(server.port, "rpm"), state(server.port, "rpm"));
    let limit = [(0, Some(5))];
    let mut reserved = 0;
    for i in 0..12 {
        let s = if i % 2 == 0 { &a } else { &b };
        if matches!(
            s.admit(admission(&limit, &[], 0.0)).await,
            Admitted::Reserved
        ) {
            reserved += 1;
        }
    }
    assert_eq!(reserved, 5);
    assert_eq!(
        b.usage(0, now_ms()).0,
        5,
        "the mirror holds the shared count"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_budget_holds_across_processes_and_books_what_was_spent() {
    let server = start_redis();
    let (a, b) = (state(server.port, "spend"), state(server.port, "spend"));
    let day = [Budget {
        id: "day".into(),
        limit_usd: 1.0,
        window_ms: 86_400_000,
        retain_ms: 0,
    }];
    assert!(matches!(
        a.admit(admission(&[], &day, 0.6)).await,
        Admitted::Reserved
    ));
    match b.admit(admission(&[], &day, 0.6)).await {
        Admitted::OverBudget { index, spent_usd } => {
            assert_eq!(index, 0);
            assert!(
                (spent_usd - 0.6).abs() < 1e-9,
                "a's estimate is held: {spent_usd}"
            );
        }
        other => panic!("expected the budget to refuse, got {other:?}"),
    }
    a.settle_spend(&day, 0.6, 0.25, now_ms());
    tokio::time::sleep(Duration::from_millis(100)).await; // the write queue drains
    assert!(matches!(
        b.admit(admission(&[], &day, 0.6)).await,
        Admitted::Reserved
    ));
    assert!(
        matches!(
            b.admit(admission(&[], &day, 0.2)).await,
            Admitted::OverBudget { .. }
        ),
        "0.25 spent + 0.6 held + 0.2 passes 1.0"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cooldowns_reach_the_other_process_and_only_ever_extend() {
    let server = start_redis();
    let (a, b) = (state(server.port, "cool"), state(server.port, "cool"));
    let now = now_ms();
    a.cool_down(0, now + 10_000);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(b.cooling_until(0, now_ms()), Some(now + 10_000));
    b.cool_down(0, now + 5_000);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(
        a.cooling_until(0, now_ms()),
        Some(now + 10_000),
        "an earlier deadline never shortens it"
    );
    assert!(!a.degraded() && !b.degraded());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_every_step_is_local() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let s = state(port, "down");
    let limit = [(0, Some(1))];
    assert!(matches!(
        s.admit(admission(&limit, &[], 0.0)).await,
        Admitted::Reserved
    ));
    assert!(s.degraded());
    assert!(
        matches!(s.admit(admission(&limit, &[], 0.0)).await, Admitted::Full),
        "the local limit holds"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callers_rate_limit_is_shared_requests_and_tokens() {
    let server = start_redis();
    let (a, b) = (state(server.port, "caller"), state(server.port, "caller"));
    let key = [RateLimit {
        id: "governance.default@sha256:abc".into(),
        rpm: Some(3),
        tpm: Some(50),
    }];
    let with = |limits| Admission {
        limits,
        ..admission(&[], &[], 0.0)
    };
    assert!(matches!(a.admit(with(&key)).await, Admitted::Reserved));
    assert!(matches!(b.admit(with(&key)).await, Admitted::Reserved));
    a.record_limit_tokens(&key, 60, now_ms());
    tokio::time::sleep(Duration::from_millis(100)).await; // the write queue drains
    assert!(
        matches!(
            b.admit(with(&key)).await,
            Admitted::RateLimited { index: 0 }
        ),
        "60 tokens spent the key's tpm of 50"
    );
    let rpm_only = [RateLimit {
        id: "governance.tags.free".into(),
        rpm: Some(2),
        tpm: None,
    }];
    let results = [
        a.admit(with(&rpm_only)).await,
        b.admit(with(&rpm_only)).await,
        a.admit(with(&rpm_only)).await,
    ];
    assert!(
        matches!(results[2], Admitted::RateLimited { index: 0 }),
        "{results:?}"
    );
}
