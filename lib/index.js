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
const { toReadableStream, toSSEResponse } = require('./web.js')
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

// One `exports.name =` per export: the only form Node's CommonJS export detection sees, so every
// name can be imported from ESM (`import { SwitchyardError } from 'switchyard-llm'`).
exports.makeLiteLLMProvider = makeLiteLLMProvider
exports.getProviderFromModel = typed('getProviderFromModel', (model) => getProviderFromModel(v.string(model, 'model')))
exports.makeModelProvider = makeModelProvider
exports.makeRouter = makeRouter
exports.resolveModel = typed('resolveModel', native.resolveModel)
exports.createProvider = createProvider
exports.ProviderManager = ProviderManager
exports.normalizeParameters = typed('normalizeParameters', normalizeParameters)
exports.CAPABILITIES = CAPABILITIES
exports.FEATURES = FEATURES
exports.listProviders = () => native.listProviders().map((p) => ({ ...p, apiKeyEnv: [...p.apiKeyEnv], baseUrlEnv: [...p.baseUrlEnv] }))
exports.SwitchyardError = SwitchyardError
exports.ERROR_KINDS = ERROR_KINDS
exports.zodToJsonSchema = typed('zodToJsonSchema', zodToJsonSchema)
exports.estimateCost = typed('estimateCost', native.estimateCost)
exports.toReadableStream = toReadableStream
exports.toSSEResponse = toSSEResponse
