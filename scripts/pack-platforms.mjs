// Release packing, the napi-rs way: one npm package per platform holding its addon, and the main
// package listing exactly those as optionalDependencies (never one that is not being published).
//
//   node scripts/pack-platforms.mjs --artifacts <dir> --out <dir> [--allow-missing] [--write-package-json]
//
// <dir> holds the built `switchyard-llm.<platform>.node` files, at any depth (as CI's artifact
// download leaves them). Writes <out>/npm/<platform>/ (napi create-npm-dirs), packs each into
// <out>/*.tgz, and writes <out>/package.json: the main manifest with optionalDependencies.
// --write-package-json also updates ./package.json (the release job then publishes the root).
// A configured target without its addon fails the run unless --allow-missing.
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const option = (name) => {
  const i = args.indexOf(name)
  if (i < 0 || !args[i + 1]) throw new Error(`${name} <dir> is required`)
  return resolve(args[i + 1])
}
const artifacts = option('--artifacts')
const out = option('--out')
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const { binaryName } = manifest.napi

/** Every file under `dir`, recursively. */
const walk = (dir) => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)]))

// napi keeps the dirs it writes inside its project: make <out> one, with this manifest.
mkdirSync(out, { recursive: true })
writeFileSync(join(out, 'package.json'), JSON.stringify(manifest))
const npmDir = join(out, 'npm')
execFileSync(join(root, 'node_modules', '.bin', 'napi'), ['create-npm-dirs', '--cwd', out, '--npm-dir', 'npm'], { stdio: 'inherit' })

const built = walk(artifacts)
const packed = {}
const missing = []
for (const platform of readdirSync(npmDir)) {
  const dir = join(npmDir, platform)
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  const file = `${binaryName}.${platform}.node`
  const found = built.find((f) => f.endsWith(`/${file}`) || f.endsWith(`\\${file}`))
  if (!found) {
    missing.push(platform)
    continue
  }
  copyFileSync(found, join(dir, file))
  execFileSync('npm', ['pack', '--silent', '--pack-destination', out], { cwd: dir, stdio: 'inherit' })
  packed[pkg.name] = pkg.version
}
if (missing.length && !args.includes('--allow-missing')) {
  throw new Error(`no addon in ${artifacts} for: ${missing.join(', ')}`)
}
if (!Object.keys(packed).length) throw new Error(`no addon in ${artifacts} for any target`)

const main = { ...manifest, optionalDependencies: packed }
writeFileSync(join(out, 'package.json'), `${JSON.stringify(main, null, 2)}\n`)
if (args.includes('--write-package-json')) writeFileSync(join(root, 'package.json'), `${JSON.stringify(main, null, 2)}\n`)
console.log(`packed ${Object.keys(packed).join(', ')}${missing.length ? `; missing ${missing.join(', ')}` : ''}`)
