// fluxparse.mjs: syntax-checks Flux files with the real Flux parser (libflux compiled to
// WebAssembly, npm package @influxdata/flux) and prints one JSON line per file:
//   {"file": "...", "errors": ["message at line:col", ...], "statements": N}
//
// Usage: node fluxparse.mjs <dir containing node_modules/@influxdata/flux> <file>...
//        (a file name "-" reads the source from standard input)
// Exit status: 0 when every file parsed without errors, 1 when a file has syntax errors,
// 2 when the parser could not be loaded.
//
// Why by hand: the package is a wasm-bindgen "bundler" build whose flux.js starts with
// `import * as wasm from './flux_bg.wasm'`; Node cannot import that directly. So this script
// loads a copy of flux.js with that import replaced by a setter, instantiates flux_bg.wasm
// with the copy's __wbindgen_* exports as imports, and hands the instance back to it.
import fs from 'node:fs';
import path from 'node:path';

const [, , pkgRoot, ...files] = process.argv;
if (!pkgRoot || files.length === 0) {
  console.error('usage: node fluxparse.mjs <npm prefix dir> <file.flux>...');
  process.exit(2);
}

async function loadParser(root) {
  const dir = path.join(root, 'node_modules', '@influxdata', 'flux');
  const js = fs.readFileSync(path.join(dir, 'flux.js'), 'utf8');
  const importLine = /^import \* as wasm from '\.\/flux_bg\.wasm';$/m;
  if (!importLine.test(js)) {
    throw new Error(`${dir}/flux.js: the wasm import line was not found (unexpected package version)`);
  }
  const patched = js.replace(importLine, 'let wasm; export function __setWasm(w) { wasm = w; }');
  const mod = await import('data:text/javascript;base64,' + Buffer.from(patched).toString('base64'));
  const bytes = fs.readFileSync(path.join(dir, 'flux_bg.wasm'));
  const { instance } = await WebAssembly.instantiate(bytes, { './flux.js': mod });
  mod.__setWasm(instance.exports);
  return mod;
}

// collectErrors walks the AST. This libflux build puts syntax errors into an `errors` list
// ({msg}) on the node where parsing failed (a call missing its ")", an unterminated string,
// ...) and turns text it cannot parse at all into Bad* nodes (BadStatement, BadExpression).
function collectErrors(node, out) {
  if (Array.isArray(node)) {
    for (const n of node) collectErrors(n, out);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const loc = node.location && node.location.start;
  const at = loc ? ` at ${loc.line}:${loc.column}` : '';
  if (Array.isArray(node.errors)) {
    for (const e of node.errors) {
      out.push(`${e && e.msg !== undefined ? e.msg : JSON.stringify(e)}${at}`);
    }
  }
  if (typeof node.type === 'string' && node.type.startsWith('Bad')) {
    out.push(`${node.type} ${JSON.stringify(node.text || (node.location && node.location.source) || '')}${at}`);
  }
  for (const [k, v] of Object.entries(node)) {
    if (k !== 'errors' && k !== 'location') collectErrors(v, out);
  }
}

let parser;
try {
  parser = await loadParser(pkgRoot);
} catch (e) {
  console.error(`cannot load @influxdata/flux from ${pkgRoot}: ${e.message}`);
  process.exit(2);
}

let failed = false;
for (const file of files) {
  const src = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  const ast = parser.parse(src);
  const errors = [];
  collectErrors(ast, errors);
  const statements = Array.isArray(ast.body) ? ast.body.length : 0;
  if (errors.length > 0) failed = true;
  console.log(JSON.stringify({ file, errors, statements }));
}
process.exit(failed ? 1 : 0);
