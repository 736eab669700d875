use std::sync::Arc;

use serde_json::json;

use super::*;
use crate::router::build::BuildOptions;
use crate::router::config::RouterConfig;
use crate::router::events::EventLog;
use crate::router::spend::{Estimate, SpendHold};
use crate::router::state::MemoryState;
use crate::router::state::{now_ms, RouterState};
use crate::router::{CallOptions, Router};
use crate::usage::Price;

/// A router over deployments nothing listens on (port 9): a call that gets past governance
/// fails with a network error, one refused by it never leaves.
fn router(governance: serde_json::Value, extra: serde_json::Value) -> Router {
    let dep = |group: &str, id: &str, model: &str| {
        json!({
            "model_name": group,
            "litellm_params": { "model": model, "api_base": "http://127.0.0.1:9/v1", "api_key": "sk-x",
                "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6 },
            "model_info": { "id": id }
        })
    };
    let mut config = json!({
        "model_list": [
            dep("gpt-4", "cloud", "openai/gpt-4o"),
            dep("gpt-4", "local", "ollama/llama3"),
            dep("fast", "fast-cloud", "openai/gpt-4o-mini"),
        ],
        "governance": governance,
        "router_settings": { "num_retries": 0 },
    });
    if let Some(extra) = extra.as_object() {
        for (k, v) in extra {
            config[k] = v.clone();
        }
    }
    let config = RouterConfig::from_json(&config.to_string()).unwrap();
    Router::from_config(config, BuildOptions::default()).unwrap()
}

fn who(key: Option<&str>, tags: &[&str]) -> Identity {
    Identity {
        key: key.map(CallerKey::new),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        run_id: None,
    }
}

fn events_text(events: &EventLog) -> String {
    serde_json::to_string(events).unwrap()
}

#[test]
fn globs_match_runs_of_characters() {
    assert!(glob("gpt-4*", "gpt-4"));
    assert!(glob("gpt-4*", "gpt-4o-mini"));
    assert!(!glob("gpt-4*", "gpt-3.5"));
    assert!(glob("*", "anything"));
    assert!(glob("openai/*-mini", "openai/gpt-4o-mini"));
    assert!(glob("a*b*c", "a-x-b-y-c"));
    assert!(!glob("a*b*c", "a-x-c-y-b"));
    assert!(glob("exact", "exact"));
    assert!(!glob("exact", "exact2"));
}

#[test]
fn periods_parse_as_litellm_writes_them() {
    assert_eq!(parse_period("30s"), Some(30_000));
    assert_eq!(parse_period("10m"), Some(600_000));
    assert_eq!(parse_period("1h"), Some(3_600_000));
    assert_eq!(parse_period("1d"), Some(DAY_MS));
    assert_eq!(parse_period("2w"), Some(14 * DAY_MS));
    assert_eq!(parse_period("1mo"), Some(30 * DAY_MS));
    for bad in ["", "d", "1", "0d", "1y", "-1d", "1.5d"] {
        assert_eq!(parse_period(bad), None, "{bad:?}");
    }
}

#[test]
fn keys_are_kept_only_as_a_hash_prefix() {
    let key = CallerKey::new("team-secret-alias");
    let shown = format!("{key:?}");
    assert!(!shown.contains("team-secret-alias"), "{shown}");
    assert_eq!(key.0.len(), "sha256:".len() + 16);
    let full = hex::encode(Sha256::digest("team-secret-alias"));
    assert_eq!(key_name(&format!("sha256:{}", full.to_uppercase())), key.0);
    assert_eq!(key_name("team-secret-alias"), key.0);
}

#[test]
fn a_deny_anywhere_wins_and_every_allow_list_must_match() {
    let r = router(
        json!({
            "default": { "allow": ["fast"] },
            "keys": { "team-a": { "allow": ["gpt-*", "fast"] } },
            "tags": { "free": { "deny": ["gpt-4*"] } },
        }),
        json!({}),
    );
    let g = r.governance.as_ref().unwrap();
    let check = |id: &Identity, group: &str| {
        let mut events = EventLog::default();
        let out = g.check_models(id, group, &[group], &mut events);
        (out.map_err(|e| (e.kind(), refusal_rule(&e))), events)
    };
    assert!(check(&who(None, &[]), "fast").0.is_ok());
    assert_eq!(
        check(&who(None, &[]), "gpt-4").0.unwrap_err(),
        (ErrorKind::Policy, "governance.default.allow".into())
    );
    assert!(
        check(&who(Some("team-a"), &[]), "gpt-4").0.is_ok(),
        "the key's own rule replaces the default"
    );
    let (out, events) = check(&who(Some("team-a"), &["free"]), "gpt-4");
    assert_eq!(
        out.unwrap_err(),
        (ErrorKind::Policy, "governance.tags.free.deny".into())
    );
    let text = events_text(&events);
    assert!(text.contains(r#""type":"policy","decision":"denied","rule":"governance.tags.free.deny","group":"gpt-4""#), "{text}");
    assert!(!text.contains("team-a"), "the key never shows: {text}");
    let (out, events) = check(&who(Some("other"), &[]), "fast");
    assert!(out.is_ok());
    assert!(
        events_text(&events).contains(r#""decision":"allowed","rule":"governance.default.allow""#)
    );
}

#[test]
fn a_tag_allow_list_replaces_the_default_one_and_narrows_a_keys() {
    let r = router(
        json!({
            "default": { "allow": ["fast"], "deny": ["o1*"] },
            "keys": { "team-a": { "allow": ["fast", "o1"] } },
            "tags": { "pro": { "allow": ["gpt-4", "o1"] }, "free": { "allow": ["fast"] } },
        }),
        json!({}),
    );
    let g = r.governance.as_ref().unwrap();
    let allowed = |id: &Identity, group: &str| {
        g.check_models(id, group, &[group], &mut EventLog::default())
            .is_ok()
    };
    assert!(
        allowed(&who(None, &["pro"]), "gpt-4"),
        "pro widens the default"
    );
    assert!(
        !allowed(&who(None, &["pro"]), "o1"),
        "the default's deny still holds"
    );
    assert!(
        !allowed(&who(None, &["pro", "free"]), "gpt-4"),
        "tags narrow each other"
    );
    assert!(
        !allowed(&who(Some("team-a"), &["pro"]), "gpt-4"),
        "a key's list holds beside a tag's"
    );
    assert!(
        allowed(&who(Some("team-a"), &["pro"]), "o1"),
        "the key's entry replaces the default"
    );
}

fn refusal_rule(e: &Error) -> String {
    match e {
        Error::Refused(r) => r.rule.clone(),
        other => panic!("not a refusal: {other:?}"),
    }
}

#[test]
fn budgets_are_named_by_their_config_path_and_whom_they_count_for() {
    let r = router(
        json!({
            "max_cost_per_day": 10, "max_cost_per_run": 1,
            "default": { "max_cost_per_day": 2 },
            "keys": { "vip": { "max_cost": 50 } },
            "tags": { "batch": { "max_cost_per_day": 3 } },
        }),
        json!({}),
    );
    let g = r.governance.as_ref().unwrap();
    let ids =
        |id: &Identity| -> Vec<String> { g.call_budgets(id).into_iter().map(|b| b.id).collect() };
    let anon = CallerKey::new("someone").0;
    let vip = CallerKey::new("vip").0;
    let mut run = who(Some("someone"), &["batch"]);
    run.run_id = Some("run-7".into());
    assert_eq!(
        ids(&run),
        [
            "governance.max_cost_per_day".to_string(),
            "governance.max_cost_per_run@run-7".into(),
            format!("governance.default.max_cost_per_day@{anon}"),
            "governance.tags.batch.max_cost_per_day".into(),
        ]
    );
    assert_eq!(
        ids(&who(Some("vip"), &[])),
        [
            "governance.max_cost_per_day".to_string(),
            format!("governance.keys.{vip}.max_cost")
        ]
    );
    assert_eq!(ids(&who(None, &[])), ["governance.max_cost_per_day"]);
    let windows: Vec<u64> = g.call_budgets(&run).iter().map(|b| b.window_ms).collect();
    assert_eq!(windows, [DAY_MS, 0, DAY_MS, DAY_MS]);
}

#[test]
fn the_estimate_bounds_prompt_and_answer_at_the_price() {
    let price = Price {
        input: 1.0,
        output: 2.0,
        cached_input: None,
        reasoning: Some(8.0),
    };
    let e = Estimate::new(&price, 4_000_001, 1_000_000);
    assert_eq!(e.prompt_tokens, 1_000_001);
    assert!((e.prompt_usd - 1.000001).abs() < 1e-9);
    assert!(
        (e.usd - (1.000001 + 8.0)).abs() < 1e-9,
        "reasoning bills highest"
    );
    let r = router(json!({ "default_max_tokens": 50 }), json!({}));
    let g = r.governance.as_ref().unwrap();
    assert_eq!(g.output_tokens(br#"{"max_tokens":7}"#), 7);
    assert_eq!(
        g.output_tokens(br#"{"max_completion_tokens":9,"max_tokens":7}"#),
        9
    );
    assert_eq!(g.output_tokens(br#"{"messages":[]}"#), 50);
}

#[test]
fn a_hold_dropped_in_flight_books_the_prompt() {
    let state = Arc::new(MemoryState::new(1));
    let day = budget("d".into(), 1.0, DAY_MS);
    let estimate = Estimate {
        usd: 0.5,
        prompt_usd: 0.1,
        prompt_tokens: 10,
    };
    let admit = |estimate_usd: f64| {
        state.admit_now(&crate::router::state::Admission {
            cache_key: None,
            reserve: &[],
            budgets: std::slice::from_ref(&day),
            estimate_usd,
            limits: &[],
            now: now_ms(),
        })
    };
    assert!(matches!(
        admit(0.5),
        crate::router::state::Admitted::Reserved
    ));
    drop(SpendHold::new(state.clone(), vec![day.clone()], estimate));
    assert!((state.spent(&day, now_ms()) - 0.1).abs() < 1e-9);
    assert!(matches!(
        admit(0.5),
        crate::router::state::Admitted::Reserved
    ));
    SpendHold::new(state.clone(), vec![day.clone()], estimate).settle(0.25);
    assert!((state.spent(&day, now_ms()) - 0.35).abs() < 1e-9);
    assert!(
        matches!(admit(0.6), crate::router::state::Admitted::Reserved),
        "nothing is left held"
    );
}

#[test]
fn config_errors_name_the_key_and_unknown_keys_are_warnings() {
    let build = |config: serde_json::Value| {
        let config = RouterConfig::from_json(&config.to_string()).unwrap();
        Router::from_config(config, BuildOptions::default())
    };
    let base = |governance: serde_json::Value, rs: serde_json::Value| {
        json!({
            "model_list": [{ "model_name": "g", "litellm_params": { "model": "openai/x", "api_key": "k" } }],
            "governance": governance,
            "router_settings": rs,
        })
    };
    let err = build(base(
        json!({ "residency": { "pii": { "deployments": ["nope"] } } }),
        json!({}),
    ))
    .err()
    .unwrap();
    assert!(
        err.to_string()
            .contains("governance.residency.pii.deployments"),
        "{err}"
    );
    let err = build(base(
        json!({}),
        json!({ "provider_budget_config": { "openai": { "budget_limit": 1, "time_period": "1y" } } }),
    ))
    .err()
    .unwrap();
    assert!(
        err.to_string()
            .contains("router_settings.provider_budget_config.openai.time_period"),
        "{err}"
    );
    let r = build(base(
        json!({ "mystery": 1, "keys": { "secret-alias": { "typo": 1 } } }),
        json!({ "provider_budget_config": { "openai": { "budget_limit": 1, "time_period": "1d", "x": 1 } } }),
    ))
    .unwrap();
    let hashed = CallerKey::new("secret-alias").0;
    assert_eq!(
        r.warnings,
        [
            "router_settings.provider_budget_config.openai.x".to_string(),
            "governance.mystery".into(),
            format!("governance.keys.{hashed}.typo"),
        ]
    );
}

#[tokio::test]
async fn a_denied_model_is_refused_before_anything_is_sent() {
    let r = router(
        json!({ "tags": { "free": { "deny": ["gpt-4"] } } }),
        json!({}),
    );
    let options = CallOptions {
        tags: vec!["free".into()],
        ..CallOptions::default()
    };
    let routed = r.complete("gpt-4", br#"{"messages":[]}"#, &options).await;
    let err = routed.result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Policy);
    assert!(
        err.to_string().contains("governance.tags.free.deny"),
        "{err}"
    );
    assert!(!routed
        .events
        .iter()
        .any(|e| matches!(e, RouterEvent::Request { .. })));
}

#[tokio::test]
async fn residency_keeps_tagged_calls_on_listed_deployments() {
    let r = router(
        json!({ "residency": { "pii": { "providers": ["ollama"] } } }),
        json!({}),
    );
    let pii = CallOptions {
        tags: vec!["pii".into()],
        ..CallOptions::default()
    };
    // Fewer calls than allowed_fails: the local deployment is not cooled down yet.
    for _ in 0..3 {
        let routed = r.complete("gpt-4", br#"{"messages":[]}"#, &pii).await;
        assert_eq!(routed.result.unwrap_err().kind(), ErrorKind::Network);
        let sent: Vec<&str> = routed
            .events
            .iter()
            .filter_map(|e| match e {
                RouterEvent::Request { deployment, .. } => Some(deployment.as_str()),
                _ => None,
            })
            .collect();
        assert!(sent.iter().all(|d| *d == "local"), "{sent:?}");
    }
    let routed = r.complete("fast", br#"{"messages":[]}"#, &pii).await;
    let err = routed.result.unwrap_err();
    assert_eq!(
        (err.kind(), refusal_rule(&err)),
        (ErrorKind::Policy, "governance.residency.pii".into())
    );
    assert!(events_text(&routed.events)
        .contains(r#""decision":"denied","rule":"governance.residency.pii","group":"fast""#));
}

#[tokio::test]
async fn an_exhausted_provider_budget_skips_its_deployments() {
    let r = router(
        json!({}),
        json!({ "router_settings": { "num_retries": 0,
            "provider_budget_config": { "openai": { "budget_limit": 0.000001, "time_period": "1d" } } } }),
    );
    let routed = r
        .complete("gpt-4", br#"{"messages":[]}"#, &CallOptions::default())
        .await;
    assert_eq!(
        routed.result.unwrap_err().kind(),
        ErrorKind::Network,
        "the local one was tried"
    );
    assert!(routed
        .events
        .iter()
        .all(|e| !matches!(e, RouterEvent::Request { deployment, .. } if deployment == "cloud")));
    let routed = r
        .complete("fast", br#"{"messages":[]}"#, &CallOptions::default())
        .await;
    let err = routed.result.unwrap_err();
    assert_eq!(
        (err.kind(), refusal_rule(&err)),
        (
            ErrorKind::BudgetExceeded,
            "router_settings.provider_budget_config.openai".into()
        )
    );
    assert!(matches!(&err, Error::Refused(r) if r.retry_after.is_some() && r.status() == 429));
}
