// Renders lib/capabilities.js as the README's capability matrix. `--write` replaces the block
// between the markers in README.md; without it, prints the block.
import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { CAPABILITIES, FEATURES } = require('../lib/capabilities.js')

const START = '<!-- capability-matrix:start -->'
const END = '<!-- capability-matrix:end -->'
const MARK = { yes: '✅', fallback: 'fallback', no: '❌' }

export function renderMatrix() {
  const notes = []
  const rows = Object.entries(CAPABILITIES).map(([id, caps]) => {
    const cells = FEATURES.map((f) => {
      const { support, note } = caps[f]
      if (!note) return MARK[support]
      notes.push(`${id} · ${f}: ${note}`)
      return `${MARK[support]}<sup>${notes.length}</sup>`
    })
    return `| ${id} | ${cells.join(' | ')} |`
  })
  return [
    START,
    `| provider | ${FEATURES.join(' | ')} |`,
    `|---|${FEATURES.map(() => ':-:').join('|')}|`,
    ...rows,
    '',
    ...notes.map((n, i) => `${i + 1}. ${n}`),
    END,
  ].join('\n')
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const matrix = renderMatrix()
  if (process.argv.includes('--write')) {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    const start = readme.indexOf(START)
    const end = readme.indexOf(END)
    if (start < 0 || end < 0) throw new Error('README.md lacks the capability-matrix markers')
    writeFileSync(new URL('../README.md', import.meta.url), readme.slice(0, start) + matrix + readme.slice(end + END.length))
  } else {
    console.log(matrix)
  }
}
