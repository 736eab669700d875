'use strict'

/**
 * Zod → JSON Schema for OpenAI `tools[].function.parameters` and `response_format`.
 *
 * For every schema JAF's own `zodSchemaToJsonSchema` handles (object, string, number, boolean,
 * array, optional, enum, record) the output is deep-equal to JAF's, except that `.describe()` text
 * is kept on every type (JAF keeps it on strings only). Where JAF silently emits
 * `{type:'string', description:'Unsupported schema type'}` we convert properly, and a type JSON
 * cannot express throws `invalid_input` naming the path instead of sending a lie to the model.
 *
 * Results are cached per schema object and deep-frozen: callers must treat them as read-only.
 */

const { invalidInput } = require('./errors.js')

// Past this nesting depth something is generating schemas endlessly (a z.lazy that never repeats).
const MAX_DEPTH = 256

// ---- shared builders (zod 3 and zod 4 differ only in where the def keeps its parts) ----------

function object(entries, cx) {
  const properties = {}
  const required = []
  for (const [key, value] of entries) {
    // defineProperty so a '__proto__' key is an ordinary property, not a prototype swap.
    Object.defineProperty(properties, key, {
      value: cx.sub(value, keySegment(key)), enumerable: true, writable: true, configurable: true,
    })
    if (!isOptional(value)) required.push(key)
  }
  // JAF leaves `required` undefined when empty, which JSON drops: omit it.
  return required.length > 0
    ? { type: 'object', properties, required, additionalProperties: false }
    : { type: 'object', properties, additionalProperties: false }
}

function nullable(inner, schema) {
  // The wrapper's description lands on the anyOf; don't repeat the (propagated) same text inside.
  if (inner.description !== undefined && inner.description === schema.description) delete inner.description
  return { anyOf: [inner, { type: 'null' }] }
}

function literal(value, cx) {
  if (value === null) return { type: 'null' }
  const type = { string: 'string', number: 'number', boolean: 'boolean', bigint: 'integer' }[typeof value]
  if (type === undefined || (type === 'number' && !Number.isFinite(value))) {
    throw cx.fail(`literal ${String(value)} cannot be expressed as JSON Schema`)
  }
  return { type, const: type === 'integer' ? Number(value) : value }
}

// TS numeric enums carry reverse mappings ({A:0, 0:'A'}); keep only the real values, as zod does.
function enumOf(obj) {
  const values = Object.keys(obj).filter(k => typeof obj[obj[k]] !== 'number').map(k => obj[k])
  const types = [...new Set(values.map(v => typeof v))].sort().reverse() // 'string' before 'number'
  return { type: types.length === 1 ? types[0] : types, enum: values }
}

function withDefault(inner, value, cx) {
  if (value === undefined) return inner
  // Clone through JSON: zod hands back the caller's own default object, which we must not freeze.
  let json
  try { json = JSON.stringify(value) } catch { json = undefined }
  if (json === undefined) throw cx.fail('default value cannot be expressed as JSON')
  inner.default = JSON.parse(json)
  return inner
}

function tuple(items, rest, minItems, cx) {
  const out = { type: 'array', prefixItems: items.map((item, i) => cx.sub(item, `[${i}]`)), minItems }
  if (rest) out.items = cx.sub(rest, '[]')
  else out.maxItems = items.length
  return out
}

const anyOf = (options, cx) => ({ anyOf: options.map(o => cx.sub(o)) })
const allOf = (d, cx) => ({ allOf: [cx.sub(d.left), cx.sub(d.right)] })
const inner = (d, cx) => cx.sub(d.innerType)
// Lazy getters may build a fresh schema on every call, so the getter itself marks the cycle.
const lazy = (d, cx) => cx.within(d.getter, () => cx.sub(d.getter()))

// ---- zod 3: handlers keyed by _def.typeName --------------------------------------------------

const V3 = {
  ZodObject: (d, cx) => object(Object.entries(d.shape()), cx),
  ZodString: () => ({ type: 'string' }),
  ZodNumber: () => ({ type: 'number' }), // even for .int(): JAF sends 'number'
  ZodBoolean: () => ({ type: 'boolean' }),
  ZodArray: (d, cx) => ({ type: 'array', items: cx.sub(d.type, '[]') }),
  ZodOptional: inner,
  ZodEnum: d => ({ type: 'string', enum: [...d.values] }),
  ZodRecord: (d, cx) => ({ type: 'object', additionalProperties: cx.sub(d.valueType, '.*') }),
  // ---- beyond JAF
  ZodNullable: (d, cx, s) => nullable(cx.sub(d.innerType), s),
  ZodUnion: (d, cx) => anyOf(d.options, cx),
  ZodDiscriminatedUnion: (d, cx) => anyOf(d.options, cx),
  ZodLiteral: (d, cx) => literal(d.value, cx),
  ZodDefault: (d, cx) => withDefault(cx.sub(d.innerType), d.defaultValue(), cx),
  ZodNativeEnum: d => enumOf(d.values),
  ZodEffects: (d, cx) => cx.sub(d.schema), // refine/transform/preprocess: the model writes the input
  ZodBranded: (d, cx) => cx.sub(d.type),
  ZodReadonly: inner,
  ZodCatch: inner,
  ZodPipeline: (d, cx) => cx.sub(d.in),
  ZodDate: () => ({ type: 'string', format: 'date-time' }),
  ZodTuple: (d, cx) => tuple(d.items, d.rest, d.items.length, cx),
  ZodIntersection: allOf,
  ZodLazy: lazy,
  ZodAny: () => ({}),
  ZodUnknown: () => ({}),
  ZodNull: () => ({ type: 'null' }),
  ZodBigInt: () => ({ type: 'integer' }),
}

// ---- zod 4: handlers keyed by _zod.def.type (JAF supports none of these) ----------------------

const V4 = {
  object: (d, cx) => object(Object.entries(d.shape), cx),
  string: () => ({ type: 'string' }),
  number: () => ({ type: 'number' }),
  boolean: () => ({ type: 'boolean' }),
  array: (d, cx) => ({ type: 'array', items: cx.sub(d.element, '[]') }),
  optional: inner,
  enum: d => enumOf(d.entries),
  record: (d, cx) => ({ type: 'object', additionalProperties: cx.sub(d.valueType, '.*') }),
  nullable: (d, cx, s) => nullable(cx.sub(d.innerType), s),
  union: (d, cx) => anyOf(d.options, cx), // discriminated unions are 'union' in zod 4
  literal: (d, cx) => (d.values.length === 1
    ? literal(d.values[0], cx)
    : { anyOf: d.values.map(v => literal(v, cx)) }),
  default: (d, cx) => withDefault(cx.sub(d.innerType), d.defaultValue, cx),
  prefault: (d, cx) => withDefault(cx.sub(d.innerType), d.defaultValue, cx),
  // preprocess is pipe(transform, schema): the schema side is what the model must produce.
  pipe: (d, cx) => cx.sub(d.in._zod.def.type === 'transform' ? d.out : d.in),
  readonly: inner,
  catch: inner,
  nonoptional: inner,
  date: () => ({ type: 'string', format: 'date-time' }),
  tuple: (d, cx) => tuple(d.items, d.rest, requiredPrefix(d.items), cx),
  intersection: allOf,
  lazy,
  any: () => ({}),
  unknown: () => ({}),
  null: () => ({ type: 'null' }),
  bigint: () => ({ type: 'integer' }),
  template_literal: (d, cx, s) => ({ type: 'string', pattern: s._zod.pattern.source }),
}

// zod 4 tuples may end in optional items.
function requiredPrefix(items) {
  let n = items.length
  while (n > 0 && items[n - 1]._zod.optin === 'optional') n--
  return n
}

// ---- the walk ----------------------------------------------------------------------------------

function isOptional(schema) {
  if (schema._zod) return schema._zod.optin === 'optional' // zod 4's own toJSONSchema rule
  try { return schema.isOptional() } catch { return false } // JAF's rule; a throwing preprocess counts as required
}

function keySegment(key) {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`
}

function kindOf(value) {
  if (value === null) return 'null'
  if (typeof value !== 'object') return typeof value
  const name = value.constructor?.name
  return name && name !== 'Object' ? `a ${name}` : 'a plain object'
}

function walk(schema, path, st) {
  const fail = message => invalidInput(`${st.label} at ${path}: ${message}`)
  const v4 = schema !== null && typeof schema === 'object' ? schema._zod?.def : undefined
  const v3 = !v4 && schema !== null && typeof schema === 'object' ? schema._def : undefined
  if (!v4 && !v3) throw fail(`expected a zod schema, got ${kindOf(schema)}`)
  const [table, type] = v4 ? [V4, v4.type] : [V3, v3.typeName]
  if (!Object.hasOwn(table, type)) {
    // zod 4 names its types 'template_literal'; report them the way zod 3 users know them.
    const name = v4 ? `Zod${String(type).replace(/(?:^|_)(\w)/g, (_, c) => c.toUpperCase())}` : type
    throw fail(`${name ?? `${kindOf(schema)} (not a known zod type)`} cannot be expressed as JSON Schema`)
  }
  const handler = table[type]

  const within = (key, fn) => {
    if (st.active.has(key)) throw fail('recursive schema (z.lazy cycle) cannot be expressed as JSON Schema')
    if (st.active.size >= MAX_DEPTH) throw fail(`schema nests deeper than ${MAX_DEPTH} levels`)
    st.active.add(key)
    try { return fn() } finally { st.active.delete(key) }
  }
  const cx = { sub: (child, segment = '') => walk(child, path + segment, st), within, fail }
  const out = within(schema, () => handler(v4 ?? v3, cx, schema))
  // JAF keeps descriptions on strings only; we keep them everywhere (truthy, as JAF tests).
  const description = schema.description
  if (description) out.description = description
  return out
}

function deepFreeze(value) {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const v of Object.values(value)) deepFreeze(v)
  }
  return value
}

// ---- public API --------------------------------------------------------------------------------

const schemaCache = new WeakMap()

/**
 * JSON Schema for a zod 3 (or zod 4) schema. Cached per schema object; the result is deep-frozen
 * and shared, so callers must not mutate it. `label` prefixes error messages.
 * @throws {SwitchyardError} kind 'invalid_input' when some part has no JSON Schema equivalent.
 */
function zodToJsonSchema(schema, label = 'tool parameter schema') {
  const cacheable = schema !== null && typeof schema === 'object'
  if (cacheable && schemaCache.has(schema)) return schemaCache.get(schema)
  const out = deepFreeze(walk(schema, '$', { label, active: new Set() }))
  if (cacheable) schemaCache.set(schema, out)
  return out
}

// Top-level types JAF converts; for anything else JAF falls back to json_object, and so do we.
const JAF_TOP_LEVEL = new Set(['ZodObject', 'ZodString', 'ZodNumber', 'ZodBoolean', 'ZodArray', 'ZodEnum', 'ZodRecord'])
const JSON_OBJECT = Object.freeze({ type: 'json_object' })
const formatCache = new WeakMap() // codec → Map(agentName → response_format)

/** JAF's normalizeResponseSchemaName: OpenAI wants [a-zA-Z0-9_-]{1,64}. */
function normalizeResponseSchemaName(name) {
  const cleaned = String(name ?? '').replace(/[^a-zA-Z0-9_-]/g, '_')
  const collapsed = cleaned.replace(/_+/g, '_').replace(/^_+|_+$/g, '')
  return (collapsed.length > 0 ? collapsed : 'jaf_output').slice(0, 64)
}

/**
 * The chat-completions `response_format` for an agent's `outputCodec`, decided exactly as JAF's
 * buildResponseFormat decides it; `undefined` when there is no codec. Cached per (codec, name);
 * the result is frozen and shared.
 */
function toResponseFormat(outputCodec, agentName) {
  if (!outputCodec) return undefined
  const cacheable = typeof outputCodec === 'object' || typeof outputCodec === 'function'
  const byName = cacheable ? formatCache.get(outputCodec) : undefined
  if (byName?.has(agentName)) return byName.get(agentName)

  // JAF unwraps ZodOptional and gives up on any other top-level type (zod 4 has no typeName at all).
  let top = outputCodec
  while (top?._def?.typeName === 'ZodOptional') top = top._def.innerType
  const out = JAF_TOP_LEVEL.has(top?._def?.typeName)
    ? Object.freeze({
      type: 'json_schema',
      json_schema: Object.freeze({
        name: normalizeResponseSchemaName(agentName),
        strict: true,
        schema: zodToJsonSchema(outputCodec, 'output schema'),
      }),
    })
    : JSON_OBJECT

  if (cacheable) {
    if (byName) byName.set(agentName, out)
    else formatCache.set(outputCodec, new Map([[agentName, out]]))
  }
  return out
}

module.exports = { zodToJsonSchema, toResponseFormat, normalizeResponseSchemaName }
