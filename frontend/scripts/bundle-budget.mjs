// Bundle budget (a benchmark: prints figures, fails only when there is no build to read).
// Reads dist/.vite/manifest.json (build.manifest in vite.config.ts) and prints
//   - the initial JavaScript: the entry and everything it imports statically, gzip-compressed,
//     against the 250 KB budget;
//   - the chunks holding the catalog grid (AG Grid) and the YAML editor (CodeMirror), their
//     sizes, the routes that load them, and whether any of them is in the initial set.
//   npm run build && node scripts/bundle-budget.mjs
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const BUDGET_KB = 250;
const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const manifestPath = join(dist, '.vite/manifest.json');
if (!existsSync(manifestPath)) {
  console.error(`${manifestPath} is missing: run npm run build (vite.config.ts needs build.manifest)`);
  process.exit(1);
}
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
const kb = (bytes) => (bytes / 1024).toFixed(1);
const sizes = new Map();
function size(file) {
  if (!sizes.has(file)) {
    const raw = readFileSync(join(dist, file));
    sizes.set(file, { raw: raw.length, gzip: gzipSync(raw, { level: 9 }).length, text: raw.toString('utf8') });
  }
  return sizes.get(file);
}

/** Keys of `start` and every chunk it imports statically. */
function staticClosure(start) {
  const seen = new Set();
  const walk = (key) => {
    if (seen.has(key) || !manifest[key]) return;
    seen.add(key);
    for (const k of manifest[key].imports ?? []) walk(k);
  };
  walk(start);
  return seen;
}

const entries = Object.keys(manifest).filter((k) => manifest[k].isEntry);
const initial = new Set(entries.flatMap((e) => [...staticClosure(e)]));
const initialJs = [...initial].map((k) => manifest[k].file).filter((f) => f.endsWith('.js'));
const initialGzip = initialJs.reduce((sum, f) => sum + size(f).gzip, 0);
const initialRaw = initialJs.reduce((sum, f) => sum + size(f).raw, 0);

console.log(`Initial JavaScript (${entries.join(', ')} + ${initialJs.length - entries.length} static imports):`);
for (const f of initialJs) console.log(`  ${f.padEnd(48)} ${kb(size(f).gzip).padStart(7)} KB gzip`);
console.log(
  `  total ${kb(initialGzip)} KB gzip (${kb(initialRaw)} KB raw) — budget ${BUDGET_KB} KB: ${initialGzip <= BUDGET_KB * 1024 ? 'within' : 'OVER'}`,
);

// Which lazy routes (dynamic entries) load each chunk.
const routesOf = new Map();
for (const [key, chunk] of Object.entries(manifest)) {
  if (!chunk.isDynamicEntry) continue;
  for (const k of staticClosure(key)) {
    if (!routesOf.has(k)) routesOf.set(k, []);
    routesOf.get(k).push(chunk.src ?? key);
  }
}

const heavy = [
  { name: 'catalog grid (AG Grid)', marker: /ag-root-wrapper|ag-grid-community|AG Grid/ },
  { name: 'YAML editor (CodeMirror)', marker: /cm-editor|@codemirror|CodeMirror/ },
];
let leaked = false;
for (const { name, marker } of heavy) {
  const chunks = Object.keys(manifest).filter((k) => manifest[k].file.endsWith('.js') && marker.test(size(manifest[k].file).text));
  console.log(`${name}:`);
  if (chunks.length === 0) console.log('  not in the build (the screen is not there yet)');
  for (const k of chunks) {
    const f = manifest[k].file;
    const inInitial = initial.has(k);
    leaked ||= inInitial;
    const routes = [...new Set(routesOf.get(k) ?? [])].join(', ') || '(none)';
    console.log(
      `  ${f.padEnd(48)} ${kb(size(f).gzip).padStart(7)} KB gzip  ${inInitial ? 'IN THE INITIAL SET' : 'lazy'} — loaded by ${routes}`,
    );
  }
}
console.log(leaked ? 'A heavy chunk is in the initial set.' : 'Grid and editor are not in the initial set.');
