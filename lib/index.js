'use strict'

const native = require('./native.js')
const { makeLiteLLMProvider } = require('./provider.js')
const { getProviderFromModel } = require('./models.js')
const { makeModelProvider } = require('./model-routing.js')
const { makeRouter } = require('./router.js')
const { createProvider } = require('./direct.js')
const { ProviderManager } = require('./manager.js')
const { normalizeParameters } = require('./parameters.js')
const { CAPABILITIES, FEATURES } = require('./capabilities.js')
const { SwitchyardError, ERROR_KINDS } = require('./errors.js')
const { zodToJsonSchema } = require('./zod-schema.js')
const v = require('./validate.js')

// Functions whose bad input must reject typed, like every other entry point.
const typed = (where, fn) =>
  function (...args) {
    try {
      return fn(...args)
    } catch (err) {
      throw v.typed(err, where)
    }
  }

module.exports = {
  makeLiteLLMProvider,
  getProviderFromModel: typed('getProviderFromModel', (model) => getProviderFromModel(v.string(model, 'model'))),
  makeModelProvider,
  makeRouter,
  resolveModel: typed('resolveModel', native.resolveModel),
  createProvider,
  ProviderManager,
  normalizeParameters: typed('normalizeParameters', normalizeParameters),
  CAPABILITIES,
  FEATURES,
  listProviders: () => native.listProviders().map((p) => ({ ...p, apiKeyEnv: [...p.apiKeyEnv], baseUrlEnv: [...p.baseUrlEnv] })),
  SwitchyardError,
  ERROR_KINDS,
  zodToJsonSchema: typed('zodToJsonSchema', zodToJsonSchema),
  estimateCost: typed('estimateCost', native.estimateCost),
}
