'use strict'

// The native addon, loaded on first use. Loading it starts the async runtime's threads and the
// generated loader reads the environment; neither may happen when `next build`, a bundler or a
// test runner merely evaluates a module that imports Switchyard.

const { SwitchyardError } = require('./errors.js')
const { platformTarget } = require('./platform.js')

let binding

function load() {
  if (binding) return binding
  // Next.js sets EdgeRuntime in its Edge runtime, which cannot load native addons.
  if (typeof EdgeRuntime === 'string') {
    throw new SwitchyardError({
      kind: 'internal',
      message: "switchyard-llm needs the Node.js runtime (it is a native addon), not the Edge runtime: add `export const runtime = 'nodejs'` to the route.",
    })
  }
  try {
    binding = require('../index.js')
  } catch (cause) {
    const target = platformTarget()
    throw new SwitchyardError({
      kind: 'internal',
      message:
        `switchyard-llm has no native addon for ${target} (Node ${process.versions.node}): no switchyard-llm-${target} package and no ` +
        `switchyard-llm.${target}.node file could be loaded. Install a Rust toolchain (https://rustup.rs) and run ` +
        '`npm install-scripts approve switchyard-llm && npm rebuild switchyard-llm` to build it from source (npm 11 skips ' +
        "dependencies' install scripts until approved), or use a supported platform " +
        '(linux x64/arm64 gnu or musl, macOS x64/arm64, windows x64).',
      cause,
    })
  }
  return binding
}

// A view whose first property read loads the addon.
module.exports = new Proxy(Object.create(null), {
  get: (_, key) => load()[key],
  has: (_, key) => key in load(),
})
