"""Runs router scenarios through LiteLLM's own `litellm.Router`, for __test__/litellm-router.test.mjs.

One process serves every scenario (LiteLLM takes seconds to import). Protocol, one JSON document
per line: this prints {"ready": true, "version": ...} once imported, then for each scenario read
from stdin ({"name", "model_list", "router": {Router kwargs}, "calls": [...]}) prints
{"name", "calls": [outcome, ...], "cooling": [deployment ids], "error"?}. A call is
{"model", "stream"?, "sleep"?: seconds before it, "messages"?}; its outcome is
{"ok": true, "content", "deployment"} or {"ok": false, "error": class name, "status", "message"}.

The only network is the loopback mocks the scenario names; the model cost map is the local copy.
"""

import os
import sys

# Before litellm is imported: no cost-map download, no proxies, no telemetry.
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
os.environ["NO_PROXY"] = "*"
os.environ["no_proxy"] = "*"
for _var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(_var, None)
os.environ.setdefault("LITELLM_LOG", "CRITICAL")

import asyncio  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import time  # noqa: E402
from importlib.metadata import version  # noqa: E402

import litellm  # noqa: E402
from litellm import Router  # noqa: E402
from litellm.router_utils.cooldown_handlers import async_get_cooldown_deployments  # noqa: E402

litellm.telemetry = False
litellm.set_verbose = False
litellm.suppress_debug_info = True
for _name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "litellm"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)

MESSAGES = [{"role": "user", "content": "hi"}]


def describe(exc: BaseException) -> dict:
    return {
        "ok": False,
        "error": type(exc).__name__,
        "status": getattr(exc, "status_code", None),
        "message": str(exc)[:400],
    }


async def one_call(router: Router, call: dict) -> dict:
    messages = call.get("messages") or MESSAGES
    started = time.monotonic()
    try:
        if call.get("stream"):
            response = await router.acompletion(model=call["model"], messages=messages, stream=True)
            text = ""
            async for chunk in response:
                if chunk.choices and chunk.choices[0].delta and chunk.choices[0].delta.content:
                    text += chunk.choices[0].delta.content
            deployment = (getattr(response, "_hidden_params", None) or {}).get("model_id")
            out = {"ok": True, "content": text, "deployment": deployment}
        else:
            response = await router.acompletion(model=call["model"], messages=messages)
            out = {
                "ok": True,
                "content": response.choices[0].message.content,
                "deployment": (response._hidden_params or {}).get("model_id"),
            }
    except Exception as exc:  # noqa: BLE001  # every failure is an outcome to compare
        out = describe(exc)
    out["ms"] = round((time.monotonic() - started) * 1000)
    return out


async def run(scenario: dict) -> dict:
    result: dict = {"name": scenario.get("name"), "calls": []}
    try:
        router = Router(model_list=scenario["model_list"], **scenario.get("router", {}))
    except Exception as exc:  # noqa: BLE001  # a refused config is an outcome too
        result["construct_error"] = describe(exc)
        return result
    for call in scenario.get("calls", []):
        if call.get("sleep"):
            await asyncio.sleep(call["sleep"])
        result["calls"].append(await one_call(router, call))
        # Failure callbacks (which set cooldowns) may run as tasks: let them finish first.
        await asyncio.sleep(call.get("settle", 0.02))
    result["cooling"] = sorted(await async_get_cooldown_deployments(router, parent_otel_span=None))
    return result


async def main() -> None:
    print(json.dumps({"ready": True, "version": version("litellm")}), flush=True)
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        line = line.strip()
        if not line:
            continue
        try:
            out = await run(json.loads(line))
        except Exception as exc:  # noqa: BLE001  # report, keep serving
            out = {"error": describe(exc)}
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
