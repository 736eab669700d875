'use strict'

// Router configuration from an object or a file: LiteLLM's proxy `config.yaml` (or the same in
// JSON / TOML), seed 004's `[llm]` TOML and seed 003's `providers.json`, turned into LiteLLM's
// shape for the core. Files are parsed with well-kept libraries (yaml, smol-toml);
// an error the core finds names the key path and, for files, its line.

const fs = require('node:fs')
const path = require('node:path')
const { invalidInput } = require('./errors.js')
const { providerId } = require('./aliases.js')
const v = require('./validate.js')

/** `{ config, where(keyPath) }`: the parsed file and a function naming a key's line. */
function parseFile(file) {
  let text
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (cause) {
    throw invalidInput(`could not read the router config file ${path.basename(file)} (${cause.code ?? 'error'})`, { cause })
  }
  const name = path.basename(file)
  const ext = path.extname(file).toLowerCase()
  if (ext === '.yaml' || ext === '.yml') return parseYaml(text, name)
  if (ext === '.toml') return parseToml(text, name)
  if (ext === '.json') return parseJson(text, name)
  throw invalidInput(`router config file ${name}: use .yaml, .yml, .toml or .json`)
}

function parseYaml(text, name) {
  const YAML = require('yaml')
  const lines = new YAML.LineCounter()
  const doc = YAML.parseDocument(text, { lineCounter: lines, prettyErrors: false })
  if (doc.errors.length > 0) {
    const err = doc.errors[0]
    throw invalidInput(`router config file ${name} line ${err.linePos?.[0]?.line ?? '?'}: ${err.code} (not valid YAML)`)
  }
  const where = (keyPath) => {
    // The deepest node of the path that exists: a missing key is reported at its parent.
    for (let n = keyPath.length; n > 0; n--) {
      const node = doc.getIn(keyPath.slice(0, n), true)
      const pair = n > 0 ? findPair(doc, keyPath.slice(0, n)) : undefined
      const range = pair?.key?.range ?? node?.range
      if (range) return `${name} line ${lines.linePos(range[0]).line}`
    }
    return name
  }
  return { config: doc.toJS(), where }
}

/** The `key: value` pair at `keyPath`, so the line is the key's. */
function findPair(doc, keyPath) {
  const parent = keyPath.length > 1 ? doc.getIn(keyPath.slice(0, -1), true) : doc.contents
  const last = keyPath[keyPath.length - 1]
  return parent?.items?.find?.((item) => item?.key?.value === last)
}

function parseToml(text, name) {
  const { parse } = require('smol-toml')
  let config
  try {
    config = parse(text)
  } catch (cause) {
    throw invalidInput(`router config file ${name} line ${cause.line ?? '?'}: not valid TOML`, { cause: { line: cause.line, column: cause.column } })
  }
  return { config, where: (keyPath) => `${name} line ${lineOfKey(text, keyPath, /^\s*\[+\s*([^\]]+?)\s*\]+/, (k) => new RegExp(`^\\s*"?${escape(k)}"?\\s*=`))}` }
}

function parseJson(text, name) {
  let config
  try {
    config = JSON.parse(text)
  } catch {
    throw invalidInput(`router config file ${name}: not valid JSON`)
  }
  return { config, where: (keyPath) => `${name} line ${lineOfKey(text, keyPath, null, (k) => new RegExp(`"${escape(k)}"\\s*:`))}` }
}

const escape = (s) => String(s).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** The line of the last named key of `keyPath`, searched after its parents' lines. */
function lineOfKey(text, keyPath, tableHeader, keyPattern) {
  const lines = text.split('\n')
  let from = 0
  let found = 1
  for (const key of keyPath.filter((k) => typeof k === 'string')) {
    const re = keyPattern(key)
    const at = lines.findIndex((line, i) => i >= from && (re.test(line) || tableHeader?.exec(line)?.[1].split('.').pop() === key))
    if (at < 0) break
    found = at + 1
    from = at + 1
  }
  return found
}

/** `model_list[2].litellm_params.rpm` → `['model_list', 2, 'litellm_params', 'rpm']`. */
function keyPathOf(text) {
  return [...text.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : m[1]))
}

/** `${NAME}` references (seed 004), read from the environment now; a missing one is an error. */
function interpolate(value, at) {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name) => {
      const env = process.env[name]
      if (env === undefined) throw invalidInput(`router config: ${at}: environment variable ${name} is not set`)
      return env
    })
  }
  if (Array.isArray(value)) return value.map((x, i) => interpolate(x, `${at}[${i}]`))
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, x]) => [k, interpolate(x, `${at}.${k}`)]))
  return value
}

const STRATEGIES_004 = { fallback: 'simple-shuffle', 'round-robin': 'round-robin', 'cost-optimized': 'cost-based-routing' }

/** A seed 004 `[llm]` provider entry as a LiteLLM deployment. */
function deployment004(entry, group, at, order) {
  v.object(entry, at)
  const provider = providerId(v.string(entry.provider ?? 'openai', `${at}.provider`))
  const model = v.string(entry.text_model ?? entry.model, `${at}.text_model`, { nonEmpty: true })
  const params = { model: `${provider}/${model}` }
  const base = entry.ollama_url ?? entry.base_url
  if (base !== undefined) params.api_base = v.string(base, `${at}.base_url`)
  if (entry.api_key !== undefined) params.api_key = v.string(entry.api_key, `${at}.api_key`)
  if (entry.api_version !== undefined) params.api_version = v.string(entry.api_version, `${at}.api_version`)
  if (order !== undefined) params.order = order
  return { model_name: group, litellm_params: params, model_info: { id: entry.name ?? `${group}/${provider}` } }
}

/** Seed 004's TOML (`[llm]`, `[[llm.providers]]`, `[llm.fallback]`, `[llm.routing]`). */
function from004(llm) {
  v.object(llm, 'llm')
  const group = 'default'
  const providers = llm.providers ?? [llm]
  const model_list = v.mapArray(providers, 'llm.providers', (p, at) => deployment004(p, group, at, p.priority))
  for (const [task, target] of Object.entries(llm.routing ?? {})) {
    const [provider, ...rest] = v.string(target, `llm.routing.${task}`).split(':')
    const known = providers.find((p) => p.provider === provider)
    model_list.push(deployment004({ ...known, provider, text_model: rest.join(':'), name: `${task}/${provider}` }, task, `llm.routing.${task}`))
  }
  const fallback = llm.fallback ?? {}
  const strategy = llm.strategy ?? 'fallback'
  if (!(strategy in STRATEGIES_004)) throw invalidInput(`router config: llm.strategy must be one of ${Object.keys(STRATEGIES_004).join(', ')}`)
  return {
    model_list,
    router_settings: {
      routing_strategy: STRATEGIES_004[strategy],
      num_retries: fallback.enabled === false ? 0 : (fallback.max_retries ?? 2),
      ...(fallback.retry_delay_ms !== undefined && { retry_after: fallback.retry_delay_ms / 1000 }),
    },
    defaults: { temperature: llm.temperature, maxTokens: llm.max_tokens },
  }
}

/** Seed 003's per-provider settings, as LiteLLM's `litellm_params`. */
const PARAMS_003 = {
  api_key: (params, value, at) => { params.api_key = v.string(value, at) },
  base_url: (params, value, at) => { params.api_base = v.string(value, at) },
  timeout: (params, value, at) => { params.timeout = v.optNumber(value, at, { min: 0 }) },
  organization: (params, value, at) => { params.headers = { ...params.headers, 'OpenAI-Organization': v.string(value, at) } },
  app_name: (params, value, at) => { params.headers = { ...params.headers, 'X-Title': v.string(value, at) } },
  app_url: (params, value, at) => { params.headers = { ...params.headers, 'HTTP-Referer': v.string(value, at) } },
}

/** Whether `config` is seed 003's `providers.json`: provider names mapping to their settings. */
function is003(config) {
  const entries = Object.entries(config)
  return entries.length > 0 && entries.every(([name, value]) => v.isObject(value) && knownProvider(name))
}

function knownProvider(name) {
  try {
    return providerId(name)
  } catch {
    return undefined
  }
}

/**
 * Seed 003's `providers.json`: one wildcard group per provider (`openai/*`, `claude/*`), so an
 * agent's `claude/claude-3-5-sonnet` goes to Anthropic with that entry's key and base URL.
 * Settings that only the seed's local CLI runner reads come back as warnings.
 */
function from003(config) {
  const warnings = []
  const model_list = Object.entries(config).map(([name, settings]) => {
    const params = { model: `${providerId(name)}/*` }
    for (const [key, value] of Object.entries(settings)) {
      const at = `${name}.${key}`
      if (Object.hasOwn(PARAMS_003, key)) PARAMS_003[key](params, interpolate(value, at), at)
      else warnings.push(at)
    }
    return { model_name: `${name}/*`, litellm_params: params, model_info: { id: name } }
  })
  return { model_list, warnings }
}

/**
 * A router configuration in LiteLLM's shape from an object or a file path, with `where(path)`
 * naming a key's line in the file and `defaults` for requests (`temperature`, `maxTokens`).
 */
function loadRouterConfig(configOrPath) {
  const source = typeof configOrPath === 'string' ? parseFile(configOrPath) : { config: v.object(configOrPath, 'config'), where: null }
  let config = source.config
  v.object(config, 'config')
  let converted = false
  if (!('model_list' in config)) {
    converted = true
    if ('llm' in config) config = from004(interpolate(config.llm, 'llm'))
    else if (is003(config)) config = from003(config)
    else throw invalidInput("router config: needs model_list (LiteLLM's shape), [llm] (seed 004's TOML) or provider settings (seed 003's providers.json)")
  }
  const { defaults, warnings, ...rest } = config
  let text
  try {
    text = v.jsonText(rest, 'config')
  } catch (err) {
    throw v.typed(err, 'makeRouter')
  }
  return { text, defaults: defaults ?? {}, warnings: warnings ?? [], where: converted ? null : source.where }
}

/** A core config error with the file line of the key it names. */
function withLine(err, where) {
  const m = /^router config: ([^:]+):/.exec(err?.message ?? '')
  if (!where || !m) return err
  err.message = err.message.replace(/^router config: /, `router config (${where(keyPathOf(m[1]))}): `)
  return err
}

module.exports = { loadRouterConfig, withLine }
