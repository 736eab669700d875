// Typings test for direct provider access: makeModelProvider is a JAF ModelProvider, and the
// seed-style surface (createProvider, ProviderManager, resolveModel) types what it returns.
import {
  makeModelProvider,
  resolveModel,
  createProvider,
  ProviderManager,
  normalizeParameters,
  listProviders,
  CAPABILITIES,
  type ProviderId,
  type ResolvedModel,
  type DirectProvider,
  type ExecuteResult,
  type Capabilities,
} from 'switchyard-llm'
import type { ModelProvider, RunConfig, Agent, RunState } from '@xynehq/jaf'

type Ctx = { userId: string }

const routed: ModelProvider<Ctx> = makeModelProvider<Ctx>({
  providers: { anthropic: { apiKey: 'k' }, bedrock: { region: 'eu-west-1' }, azure: { apiVersion: '2024-10-21' } },
  maxRetries: 1,
  onUsage: (r) => r.provider.toUpperCase(),
})
declare const agent: Agent<Ctx, string>
declare const state: RunState<Ctx>
const config: RunConfig<Ctx> = { agentRegistry: new Map([[agent.name, agent]]), modelProvider: routed }

async function direct(): Promise<void> {
  await routed.getCompletion(state, agent, config)
  const where: ResolvedModel = resolveModel('anthropic/claude-3-5-sonnet-20241022')
  const id: ProviderId = where.provider
  const base: string | null = where.baseURL
  void [id, base]

  const claude: DirectProvider = createProvider('claude', { apiKey: 'k', baseURL: 'http://127.0.0.1:1' }, { timeoutMs: 5000 })
  const out: ExecuteResult = await claude.execute('claude-3-5-haiku-latest', 'hi', { parameters: { temp: 0.1 } })
  const text: string = out.text
  for await (const piece of claude.streamExecute('m', 'p')) {
    const s: string = piece
    void s
  }
  const vectors: number[][] = (await claude.embed({ model: 'e', input: ['a'] })).data.map((d) => d.embedding)
  const caps: Capabilities | null = claude.getInfo().capabilities
  const valid: boolean = (await claude.validateConfig()).valid
  void [text, vectors, caps, valid]

  createProvider('vertex_ai', { credentials: '/path/to/service-account.json', region: 'us-central1' })
  createProvider('vertex_ai', { credentials: { type: 'service_account', client_email: 'a@b', private_key: '…' } })

  const manager = new ProviderManager({ maxRetries: 0 })
  manager.addProvider('gpt', { apiKey: 'k' })
  const answer: ExecuteResult = await manager.autoExecute('gpt-4o', 'Hello!')
  const all = await manager.listAllModels()
  void [answer, all, normalizeParameters({ temp: 1 }), listProviders()[0].apiKeyEnv, CAPABILITIES.openai.tools.support]

  // @ts-expect-error an unknown provider id is not a ProviderId
  const wrong: ProviderId = 'anthropics'
  // @ts-expect-error settings are typed
  createProvider('gpt', { apiKey: 42 })
  void wrong
}
void direct

// The Router is a JAF ModelProvider too.
import { makeRouter, type RouterEvent } from 'switchyard-llm'
const events: RouterEvent[] = []
const router = makeRouter<Ctx>(
  { model_list: [{ model_name: 'gpt-4', litellm_params: { model: 'openai/gpt-4o', rpm: 60 } }], router_settings: { num_retries: 1 } },
  { onEvent: (e) => events.push(e), deadlineMs: 5000 },
)
const asJaf: ModelProvider<Ctx> = router
void asJaf
void router.stats().model_stats['gpt-4']?.cost_usd
void router.complete({ model: 'gpt-4', messages: [], cache: { 'no-cache': true } })
// @ts-expect-error the config needs a model_list
makeRouter({ router_settings: {} })

// Governance: config, per-call identity, a bound identity for JAF, the audit events.
const governed = makeRouter(
  {
    model_list: [{ model_name: 'g', litellm_params: { model: 'ollama/llama3' }, model_info: { id: 'local' } }],
    governance: {
      max_cost_per_day: 5,
      max_cost_per_run: 0.5,
      default: { allow: ['g*'], max_cost_per_day: 1 },
      keys: { 'team-a': { deny: ['gpt-4*'], max_cost: 100 } },
      tags: { free: { allow: ['g'] } },
      residency: { pii: { deployments: ['local'], providers: ['ollama'] } },
    },
    router_settings: { provider_budget_config: { openai: { budget_limit: 10, time_period: '1d' } } },
  },
  { key: 'team-a', tags: ['batch'] },
)
void governed.complete({ model: 'g', messages: [] }, { key: 'k', tags: ['pii'], runId: 'r' })
const teamA: ModelProvider<Ctx> = governed.withIdentity({ key: 'team-a' })
void teamA
const audit = (e: RouterEvent): string => {
  switch (e.type) {
    case 'policy':
      return `${e.decision} ${e.rule} ${e.group} ${e.deployment ?? ''}`
    case 'budget':
      return `${e.decision} ${e.budget} ${e.spentUsd} ${e.limitUsd} ${e.estimateUsd}`
    default:
      return e.type
  }
}
void audit
// @ts-expect-error tags are strings
void governed.complete({ model: 'g', messages: [] }, { tags: [1] })
