'use strict'

// npm install hook: when no prebuilt addon loads on this platform (no switchyard-llm-<platform>
// package was published or installed for it), build one from the shipped Rust sources with cargo.
// Without cargo, fail the install with what to do instead of a "cannot find module" at run time.
// SWITCHYARD_BUILD_PROFILE=dev makes a quicker debug build; CARGO_TARGET_DIR and CARGO_BUILD_TARGET
// are honoured.

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { platformTarget } = require('../lib/platform.js')

const root = path.join(__dirname, '..')

// In a child process: a loaded addon starts threads, and a crash must not take npm with it.
const loads = () => spawnSync(process.execPath, ['-e', `require(${JSON.stringify(path.join(root, 'index.js'))})`], { stdio: 'ignore' }).status === 0

function fail(message) {
  console.error(`switchyard-llm: ${message}`)
  process.exit(1)
}

function main() {
  // A checkout's own `npm install` builds with `npm run build`, not here.
  if (process.env.INIT_CWD && path.resolve(process.env.INIT_CWD) === root) return
  if (loads()) return
  const target = platformTarget()
  const cargo = process.env.CARGO || 'cargo'
  if (spawnSync(cargo, ['--version'], { stdio: 'ignore' }).status !== 0) {
    fail(
      `no prebuilt addon for ${target} and no Rust toolchain to build one. Install Rust (https://rustup.rs), ` +
        'then run `npm rebuild switchyard-llm` (npm 11 runs it once allowed: `npm install-scripts approve switchyard-llm`); ' +
        'or use a platform with prebuilt addons: linux x64/arm64 (gnu, musl), macOS x64/arm64, windows x64.',
    )
  }
  const profile = process.env.SWITCHYARD_BUILD_PROFILE === 'dev' ? 'dev' : 'release'
  console.error(`switchyard-llm: no prebuilt addon for ${target}; building it from source with cargo (${profile} profile)…`)
  const built = spawnSync(cargo, ['build', '--locked', '--lib', '-p', 'switchyard', '--profile', profile], { cwd: root, stdio: 'inherit' })
  if (built.status !== 0) fail(`building the addon for ${target} with cargo failed (see above).`)
  const targetDir = process.env.CARGO_TARGET_DIR ? path.resolve(root, process.env.CARGO_TARGET_DIR) : path.join(root, 'target')
  const lib = { win32: 'switchyard.dll', darwin: 'libswitchyard.dylib' }[process.platform] ?? 'libswitchyard.so'
  const outDir = path.join(targetDir, process.env.CARGO_BUILD_TARGET ?? '', profile === 'dev' ? 'debug' : 'release')
  fs.copyFileSync(path.join(outDir, lib), path.join(root, `switchyard-llm.${target}.node`))
  if (!process.env.CARGO_TARGET_DIR) fs.rmSync(targetDir, { recursive: true, force: true })
  if (!loads()) fail(`the addon built for ${target} does not load.`)
  console.error(`switchyard-llm: built switchyard-llm.${target}.node`)
}

main()
