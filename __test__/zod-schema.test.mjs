import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { createRequire } from 'node:module'
import { z } from 'zod'
import { z as z4 } from 'zod/v4'
import { makeLiteLLMProvider } from '../node_modules/@xynehq/jaf/dist/providers/model.js'

const require = createRequire(import.meta.url)
const { zodToJsonSchema, toResponseFormat } = require('../lib/zod-schema.js')

// ---- JAF's real output, captured from the request its provider sends ---------------------------

const COMPLETION = JSON.stringify({
  id: 'x', object: 'chat.completion', created: 1, model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
})
let server
let provider
let lastBody

before(async () => {
  server = http.createServer((req, res) => {
    let raw = ''
    req.on('data', chunk => { raw += chunk })
    req.on('end', () => {
      lastBody = raw
      res.writeHead(200, { 'content-type': 'application/json' }).end(COMPLETION)
    })
  })
  await new Promise(resolve => server.listen(0, '127.0.0.1', resolve))
  provider = await quietly(() => makeLiteLLMProvider(
    `http://127.0.0.1:${server.address().port}`, 'k', { noProxy: '127.0.0.1' }))
})
after(() => new Promise(resolve => server.close(resolve)))

// JAF logs every request to the console; keep test output readable.
async function quietly(fn) {
  const saved = [console.log, console.error, console.warn]
  console.log = console.error = console.warn = () => {}
  try { return await fn() } finally { [console.log, console.error, console.warn] = saved }
}

/** JAF's request body (raw JSON text and parsed) for one call with the given agent fields. */
async function jafRequest({ parameters, outputCodec, name = 'A' }) {
  const state = { messages: [{ role: 'user', content: 'hi' }], context: {}, turnCount: 0 }
  const agent = {
    name,
    instructions: () => 'sys',
    modelConfig: { name: 'm' },
    ...(parameters && {
      tools: [{ schema: { name: 't', description: 'd', parameters }, execute: async () => '' }],
    }),
    ...(outputCodec && { outputCodec }),
  }
  lastBody = undefined
  await quietly(() => provider.getCompletion(state, agent, {}))
  return JSON.parse(lastBody)
}

const jafParameters = async schema => (await jafRequest({ parameters: schema })).tools[0].function.parameters

// Same keys, same values, same key order.
function assertSameJson(actual, expected) {
  assert.deepStrictEqual(actual, expected)
  assert.equal(JSON.stringify(actual), JSON.stringify(expected))
}

// ---- parity with JAF on what JAF supports ------------------------------------------------------

const PARITY = {
  'flat primitives': z.object({ s: z.string(), n: z.number(), b: z.boolean() }),
  'string descriptions': z.object({
    city: z.string().describe('City name'),
    note: z.string().describe('optional note').optional(),
  }),
  'empty object': z.object({}),
  'all optional (no required key)': z.object({ a: z.string().optional(), b: z.number().optional() }),
  'nested objects': z.object({
    user: z.object({ name: z.string(), address: z.object({ zip: z.string(), line2: z.string().optional() }) }),
    flag: z.boolean().optional(),
  }),
  'arrays of objects': z.object({
    items: z.array(z.object({ id: z.number(), tags: z.array(z.string()) })),
    matrix: z.array(z.array(z.number())),
    maybe: z.array(z.string()).optional(),
  }),
  'enums': z.object({ unit: z.enum(['c', 'f']), mode: z.enum(['fast', 'slow']).optional() }),
  'records': z.object({
    scores: z.record(z.number()),
    people: z.record(z.string(), z.object({ age: z.number() })),
  }),
  'checks are dropped like JAF (int stays number)': z.object({
    count: z.number().int().min(0),
    email: z.string().email().max(99),
    list: z.array(z.string()).min(1),
  }),
  'optional chains': z.object({ deep: z.string().optional().optional() }),
}

describe('parity with JAF zodSchemaToJsonSchema', () => {
  for (const [name, schema] of Object.entries(PARITY)) {
    test(`tool parameters: ${name}`, async () => {
      assertSameJson(zodToJsonSchema(schema), await jafParameters(schema))
    })
  }

  test('response_format for an object codec equals JAF', async () => {
    const codec = PARITY['nested objects']
    const body = await jafRequest({ outputCodec: codec, name: 'Weather Agent' })
    assertSameJson(toResponseFormat(codec, 'Weather Agent'), body.response_format)
  })

  const NAMES = ['A', 'Weather Agent v2!', 'a.b-c_d', '__x__', '', '!!!', 'x'.repeat(100), 'héllo wörld']
  for (const agentName of NAMES) {
    test(`response_format name normalisation equals JAF: ${JSON.stringify(agentName.slice(0, 20))}`, async () => {
      const codec = z.object({ ok: z.boolean() })
      const body = await jafRequest({ outputCodec: codec, name: agentName })
      assertSameJson(toResponseFormat(codec, agentName), body.response_format)
    })
  }

  const FALLBACK_OR_NOT = {
    'top-level union': z.union([z.object({ a: z.string() }), z.object({ b: z.number() })]),
    'top-level nullable': z.object({ a: z.string() }).nullable(),
    'top-level refine': z.object({ a: z.string() }).refine(() => true),
    'top-level optional object (unwrapped)': z.object({ a: z.string() }).optional(),
    'top-level string': z.string(),
    'top-level array': z.array(z.object({ a: z.number() })),
    'top-level enum': z.enum(['x', 'y']),
    'top-level record': z.record(z.boolean()),
    'zod 4 object (JAF sees no typeName)': z4.object({ a: z4.string() }),
  }
  for (const [name, codec] of Object.entries(FALLBACK_OR_NOT)) {
    test(`response_format json_object/json_schema choice equals JAF: ${name}`, async () => {
      const body = await jafRequest({ outputCodec: codec, name: 'Agent' })
      assertSameJson(toResponseFormat(codec, 'Agent'), body.response_format)
    })
  }

  test('deliberate difference: descriptions kept on non-string types', async () => {
    const schema = z.object({ n: z.number().describe('how many'), tags: z.array(z.string()).describe('labels') })
    const jaf = await jafParameters(schema)
    assert.deepStrictEqual(jaf.properties.n, { type: 'number' })
    assert.deepStrictEqual(zodToJsonSchema(schema).properties, {
      n: { type: 'number', description: 'how many' },
      tags: { type: 'array', items: { type: 'string' }, description: 'labels' },
    })
  })

  test('where JAF emits its Unsupported marker we convert properly', async () => {
    const schema = z.object({ when: z.string().nullable() })
    const jaf = await jafParameters(schema)
    assert.deepStrictEqual(jaf.properties.when, { type: 'string', description: 'Unsupported schema type' })
    assert.deepStrictEqual(zodToJsonSchema(schema).properties.when, { anyOf: [{ type: 'string' }, { type: 'null' }] })
  })
})

// ---- conversions beyond JAF --------------------------------------------------------------------

const prop = schema => zodToJsonSchema(z.object({ x: schema })).properties.x

describe('conversions beyond JAF', () => {
  test('descriptions on every type', () => {
    assert.deepStrictEqual(prop(z.boolean().describe('b')), { type: 'boolean', description: 'b' })
    assert.deepStrictEqual(prop(z.enum(['a']).describe('e')), { type: 'string', enum: ['a'], description: 'e' })
    assert.deepStrictEqual(prop(z.record(z.string()).describe('r')),
      { type: 'object', additionalProperties: { type: 'string' }, description: 'r' })
    assert.deepStrictEqual(zodToJsonSchema(z.object({}).describe('o')),
      { type: 'object', properties: {}, additionalProperties: false, description: 'o' })
    assert.deepStrictEqual(prop(z.any().describe('anything')), { description: 'anything' })
    // The outermost description wins over an inner one.
    assert.deepStrictEqual(prop(z.string().describe('inner').optional().describe('outer')),
      { type: 'string', description: 'outer' })
  })

  test('nullable → anyOf with null, description on the wrapper only', () => {
    assert.deepStrictEqual(prop(z.number().nullable()), { anyOf: [{ type: 'number' }, { type: 'null' }] })
    assert.deepStrictEqual(prop(z.string().describe('d').nullable()),
      { anyOf: [{ type: 'string' }, { type: 'null' }], description: 'd' })
    assert.deepStrictEqual(prop(z.object({ a: z.string() }).nullable()), {
      anyOf: [{ type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false },
        { type: 'null' }],
    })
  })

  test('union and discriminated union → anyOf', () => {
    assert.deepStrictEqual(prop(z.union([z.string(), z.number()])), { anyOf: [{ type: 'string' }, { type: 'number' }] })
    const du = z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('a'), a: z.string() }),
      z.object({ kind: z.literal('b'), b: z.number() }),
    ])
    assert.deepStrictEqual(zodToJsonSchema(du), {
      anyOf: [
        { type: 'object', properties: { kind: { type: 'string', const: 'a' }, a: { type: 'string' } },
          required: ['kind', 'a'], additionalProperties: false },
        { type: 'object', properties: { kind: { type: 'string', const: 'b' }, b: { type: 'number' } },
          required: ['kind', 'b'], additionalProperties: false },
      ],
    })
  })

  test('literals', () => {
    assert.deepStrictEqual(prop(z.literal('on')), { type: 'string', const: 'on' })
    assert.deepStrictEqual(prop(z.literal(3)), { type: 'number', const: 3 })
    assert.deepStrictEqual(prop(z.literal(false)), { type: 'boolean', const: false })
    assert.deepStrictEqual(prop(z.literal(null)), { type: 'null' })
    assert.deepStrictEqual(prop(z.literal(5n)), { type: 'integer', const: 5 })
  })

  test('default → inner schema plus default; key is not required; default value is copied', () => {
    const userDefault = { tags: ['a'] }
    const schema = z.object({
      n: z.number().default(3),
      o: z.object({ tags: z.array(z.string()) }).default(userDefault),
      f: z.string().default(() => 'made'),
    })
    const out = zodToJsonSchema(schema)
    assert.deepStrictEqual(out.properties.n, { type: 'number', default: 3 })
    assert.deepStrictEqual(out.properties.o.default, { tags: ['a'] })
    assert.deepStrictEqual(out.properties.f, { type: 'string', default: 'made' })
    assert.equal(out.required, undefined)
    assert.notEqual(out.properties.o.default, userDefault)
    assert.equal(Object.isFrozen(userDefault), false)
  })

  test('native enums: string, numeric (reverse mappings dropped), mixed', () => {
    assert.deepStrictEqual(prop(z.nativeEnum({ Up: 'UP', Down: 'DOWN' })), { type: 'string', enum: ['UP', 'DOWN'] })
    // What TypeScript emits for `enum N { A, B }`.
    assert.deepStrictEqual(prop(z.nativeEnum({ 0: 'A', 1: 'B', A: 0, B: 1 })), { type: 'number', enum: [0, 1] })
    assert.deepStrictEqual(prop(z.nativeEnum({ A: 'a', B: 1, 1: 'B' })), { type: ['string', 'number'], enum: ['a', 1] })
  })

  test('effects (refine, superRefine, transform, preprocess) → inner schema', () => {
    const str = { type: 'string' }
    assert.deepStrictEqual(prop(z.string().refine(s => s.length > 0)), str)
    assert.deepStrictEqual(prop(z.string().superRefine(() => {})), str)
    assert.deepStrictEqual(prop(z.string().transform(s => s.length)), str)
    assert.deepStrictEqual(prop(z.preprocess(v => String(v), z.string())), str)
  })

  test('branded, readonly, catch, pipeline (input side) → inner', () => {
    assert.deepStrictEqual(prop(z.string().brand('Id')), { type: 'string' })
    assert.deepStrictEqual(prop(z.array(z.number()).readonly()), { type: 'array', items: { type: 'number' } })
    assert.deepStrictEqual(prop(z.number().catch(0)), { type: 'number' })
    assert.deepStrictEqual(prop(z.string().pipe(z.coerce.number())), { type: 'string' })
  })

  test('date, null, bigint, any, unknown', () => {
    assert.deepStrictEqual(prop(z.date()), { type: 'string', format: 'date-time' })
    assert.deepStrictEqual(prop(z.null()), { type: 'null' })
    assert.deepStrictEqual(prop(z.bigint()), { type: 'integer' })
    const out = zodToJsonSchema(z.object({ a: z.any(), u: z.unknown(), s: z.string() }))
    assert.deepStrictEqual(out.properties, { a: {}, u: {}, s: { type: 'string' } })
    assert.deepStrictEqual(out.required, ['s']) // zod's isOptional(): any/unknown accept undefined
  })

  test('tuples with and without rest', () => {
    assert.deepStrictEqual(prop(z.tuple([z.string(), z.number()])), {
      type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }], minItems: 2, maxItems: 2,
    })
    assert.deepStrictEqual(prop(z.tuple([z.string()]).rest(z.boolean())), {
      type: 'array', prefixItems: [{ type: 'string' }], minItems: 1, items: { type: 'boolean' },
    })
  })

  test('intersection → allOf', () => {
    assert.deepStrictEqual(prop(z.intersection(z.object({ a: z.string() }), z.object({ b: z.number() }))), {
      allOf: [
        { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false },
        { type: 'object', properties: { b: { type: 'number' } }, required: ['b'], additionalProperties: false },
      ],
    })
  })

  test('nested arrays of anything', () => {
    assert.deepStrictEqual(prop(z.array(z.array(z.union([z.literal(1), z.null()])))), {
      type: 'array', items: { type: 'array', items: { anyOf: [{ type: 'number', const: 1 }, { type: 'null' }] } },
    })
  })

  test('lazy resolves its getter; the same sub-schema may appear twice without being a cycle', () => {
    const shared = z.string()
    assert.deepStrictEqual(zodToJsonSchema(z.object({ a: z.lazy(() => shared), b: shared })).properties,
      { a: { type: 'string' }, b: { type: 'string' } })
  })

  test('recursive schemas throw invalid_input naming the path instead of looping', () => {
    const Category = z.lazy(() => z.object({ name: z.string(), children: z.array(Category) }))
    assert.throws(() => zodToJsonSchema(z.object({ root: Category })), err => {
      assert.equal(err.kind, 'invalid_input')
      assert.match(err.message, /^tool parameter schema at \$\.root\.children\[\]: recursive schema/)
      return true
    })
    // A getter that builds a fresh schema every call is caught too.
    const make = () => z.object({ next: z.lazy(make) })
    assert.throws(() => zodToJsonSchema(make()), err => err.kind === 'invalid_input' && /\$\.next\.next: recursive/.test(err.message))
  })
})

// ---- what JSON cannot express ------------------------------------------------------------------

describe('invalid_input for types JSON cannot express', () => {
  const UNEXPRESSIBLE = {
    ZodFunction: z.function(),
    ZodPromise: z.promise(z.string()),
    ZodSymbol: z.symbol(),
    ZodMap: z.map(z.string(), z.number()),
    ZodSet: z.set(z.string()),
    ZodVoid: z.void(),
    ZodUndefined: z.undefined(),
    ZodNever: z.never(),
    ZodNaN: z.nan(),
  }
  for (const [name, schema] of Object.entries(UNEXPRESSIBLE)) {
    test(`${name} deep inside names its path`, () => {
      const outer = z.object({ items: z.array(z.object({ when: schema })) })
      assert.throws(() => zodToJsonSchema(outer), err => {
        assert.equal(err.kind, 'invalid_input')
        assert.equal(err.message, `tool parameter schema at $.items[].when: ${name} cannot be expressed as JSON Schema`)
        return true
      })
    })
  }

  test('paths through records, tuples, odd keys and wrappers', () => {
    const cases = [
      [z.object({ m: z.record(z.symbol()) }), '$.m.*'],
      [z.object({ t: z.tuple([z.string(), z.void()]) }), '$.t[1]'],
      [z.object({ 'odd key': z.void().optional() }), '$["odd key"]'],
      [z.object({ u: z.union([z.string(), z.object({ f: z.function() }).nullable()]) }), '$.u.f'],
    ]
    for (const [schema, path] of cases) {
      assert.throws(() => zodToJsonSchema(schema), err => err.kind === 'invalid_input' && err.message.includes(` at ${path}: `))
    }
  })

  test('values that are not zod schemas', () => {
    for (const value of [undefined, null, 'string', { type: 'object', properties: {} }]) {
      assert.throws(() => zodToJsonSchema(value), err =>
        err.kind === 'invalid_input' && err.message.startsWith('tool parameter schema at $: expected a zod schema'))
    }
    assert.throws(() => zodToJsonSchema(z.object({ a: { type: 'string' } })), err =>
      err.kind === 'invalid_input' && err.message === 'tool parameter schema at $.a: expected a zod schema, got a plain object')
  })

  test('a custom label prefixes the message; a literal undefined is refused', () => {
    assert.throws(() => zodToJsonSchema(z.object({ u: z.literal(undefined) }), 'tool "t" parameter schema'), err =>
      err.kind === 'invalid_input' && err.message.startsWith('tool "t" parameter schema at $.u: literal undefined'))
  })
})

// ---- zod 4 -------------------------------------------------------------------------------------

describe('zod 4 schemas', () => {
  test('the same set converts', () => {
    const schema = z4.object({
      s: z4.string().describe('text'),
      n: z4.number().int(),
      b: z4.boolean().optional(),
      list: z4.array(z4.object({ id: z4.string() })),
      e: z4.enum(['a', 'b']),
      r: z4.record(z4.string(), z4.number()),
      nul: z4.string().nullable(),
      u: z4.union([z4.literal('x'), z4.null()]),
      lits: z4.literal(['a', 2]),
      d: z4.number().default(1),
      t: z4.tuple([z4.string(), z4.number().optional()]),
      i: z4.intersection(z4.object({ a: z4.string() }), z4.object({})),
      tr: z4.string().transform(s => s.length),
      pre: z4.preprocess(v => v, z4.boolean()),
      date: z4.date(),
      big: z4.bigint(),
      any: z4.any(),
    })
    assert.deepStrictEqual(zodToJsonSchema(schema), {
      type: 'object',
      properties: {
        s: { type: 'string', description: 'text' },
        n: { type: 'number' },
        b: { type: 'boolean' },
        list: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'], additionalProperties: false } },
        e: { type: 'string', enum: ['a', 'b'] },
        r: { type: 'object', additionalProperties: { type: 'number' } },
        nul: { anyOf: [{ type: 'string' }, { type: 'null' }] },
        u: { anyOf: [{ type: 'string', const: 'x' }, { type: 'null' }] },
        lits: { anyOf: [{ type: 'string', const: 'a' }, { type: 'number', const: 2 }] },
        d: { type: 'number', default: 1 },
        t: { type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }], minItems: 1, maxItems: 2 },
        i: { allOf: [
          { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false },
          { type: 'object', properties: {}, additionalProperties: false },
        ] },
        tr: { type: 'string' },
        pre: { type: 'boolean' },
        date: { type: 'string', format: 'date-time' },
        big: { type: 'integer' },
        any: {},
      },
      // zod 4's own rule (optin): optional and default keys are optional, any is not.
      required: ['s', 'n', 'list', 'e', 'r', 'nul', 'u', 'lits', 't', 'i', 'tr', 'pre', 'date', 'big', 'any'],
      additionalProperties: false,
    })
  })

  test('recursion via getters and unexpressible types throw invalid_input', () => {
    const Node = z4.object({ name: z4.string(), get kids() { return z4.array(Node) } })
    assert.throws(() => zodToJsonSchema(Node), err => err.kind === 'invalid_input' && err.message.includes('at $.kids[]: recursive'))
    assert.throws(() => zodToJsonSchema(z4.object({ m: z4.map(z4.string(), z4.string()) })), err =>
      err.kind === 'invalid_input' && err.message === 'tool parameter schema at $.m: ZodMap cannot be expressed as JSON Schema')
  })
})

// ---- caching and toResponseFormat --------------------------------------------------------------

describe('caching', () => {
  test('zodToJsonSchema returns the same frozen object for the same schema', () => {
    const schema = z.object({ a: z.array(z.object({ b: z.string() })) })
    const first = zodToJsonSchema(schema)
    assert.equal(zodToJsonSchema(schema), first)
    assert.ok(Object.isFrozen(first) && Object.isFrozen(first.properties.a.items.required))
    assert.throws(() => { first.properties.c = {} }, TypeError)
    assert.notEqual(zodToJsonSchema(z.object({ a: z.array(z.object({ b: z.string() })) })), first)
  })

  test('failures are not cached: the same schema throws every time', () => {
    const bad = z.object({ f: z.function() })
    assert.throws(() => zodToJsonSchema(bad), { kind: 'invalid_input' })
    assert.throws(() => zodToJsonSchema(bad), { kind: 'invalid_input' })
  })

  test('toResponseFormat caches per codec and agent name, sharing the converted schema', () => {
    const codec = z.object({ ok: z.boolean() })
    const a = toResponseFormat(codec, 'A')
    assert.equal(toResponseFormat(codec, 'A'), a)
    const b = toResponseFormat(codec, 'B')
    assert.notEqual(b, a)
    assert.equal(b.json_schema.name, 'B')
    assert.equal(b.json_schema.schema, a.json_schema.schema)
    assert.equal(a.json_schema.schema, zodToJsonSchema(codec))
    assert.ok(Object.isFrozen(a) && Object.isFrozen(a.json_schema))
  })
})

describe('toResponseFormat', () => {
  test('no codec → undefined', () => {
    assert.equal(toResponseFormat(undefined, 'A'), undefined)
    assert.equal(toResponseFormat(null, 'A'), undefined)
  })

  test('json_schema with normalised name and strict mode', () => {
    const codec = z.object({ answer: z.string(), confidence: z.number().describe('0..1') })
    assert.deepStrictEqual(toResponseFormat(codec, 'My Agent (v2)'), {
      type: 'json_schema',
      json_schema: {
        name: 'My_Agent_v2',
        strict: true,
        schema: {
          type: 'object',
          properties: { answer: { type: 'string' }, confidence: { type: 'number', description: '0..1' } },
          required: ['answer', 'confidence'],
          additionalProperties: false,
        },
      },
    })
    assert.equal(toResponseFormat(codec, '***').json_schema.name, 'jaf_output')
    assert.equal(toResponseFormat(codec, 'n'.repeat(80)).json_schema.name, 'n'.repeat(64))
    assert.equal(toResponseFormat(codec, undefined).json_schema.name, 'jaf_output')
  })

  test('top-level union falls back to json_object, like JAF', () => {
    assert.deepStrictEqual(toResponseFormat(z.union([z.string(), z.number()]), 'A'), { type: 'json_object' })
    assert.deepStrictEqual(toResponseFormat(z.object({ a: z.string() }).nullable().optional(), 'A'), { type: 'json_object' })
  })

  test('unexpressible types inside an object codec throw invalid_input for the output schema', () => {
    assert.throws(() => toResponseFormat(z.object({ cb: z.function() }), 'A'), err =>
      err.kind === 'invalid_input' && err.message === 'output schema at $.cb: ZodFunction cannot be expressed as JSON Schema')
  })
})
