//! `npm run bench`'s pick figure: the time to choose a deployment in a group of 1,000, for each
//! strategy. Prints one JSON line per strategy: `{"strategy":…,"deployments":1000,"ns_per_pick":…}`.

use std::time::Instant;

use serde_json::json;
use switchyard_core::router::build::BuildOptions;
use switchyard_core::router::config::RouterConfig;
use switchyard_core::router::Router;

const DEPLOYMENTS: usize = 1000;
const PICKS: u32 = 200_000;

fn main() {
    for strategy in [
        "simple-shuffle",
        "round-robin",
        "least-busy",
        "latency-based-routing",
        "cost-based-routing",
        "usage-based-routing-v2",
    ] {
        let model_list: Vec<_> = (0..DEPLOYMENTS)
            .map(|i| {
                json!({
                    "model_name": "g",
                    "litellm_params": {
                        "model": format!("openai/m-{i}"),
                        "api_base": "http://127.0.0.1:9/v1",
                        "api_key": "k",
                        "weight": (i % 7) + 1,
                        "rpm": 1_000_000,
                        "input_cost_per_token": 1e-6 * (1.0 + (i % 13) as f64),
                        "output_cost_per_token": 2e-6,
                    }
                })
            })
            .collect();
        let config = json!({ "model_list": model_list, "router_settings": { "routing_strategy": strategy } });
        let config = RouterConfig::from_json(&config.to_string()).expect("config");
        let router = Router::from_config(config, BuildOptions::default()).expect("router");
        for _ in 0..10_000 {
            router.next_deployment("g").expect("group");
        }
        let started = Instant::now();
        for _ in 0..PICKS {
            std::hint::black_box(router.next_deployment("g").expect("group"));
        }
        let ns = started.elapsed().as_nanos() as f64 / PICKS as f64;
        println!(
            "{}",
            json!({ "strategy": strategy, "deployments": DEPLOYMENTS, "ns_per_pick": ns })
        );
    }
}
