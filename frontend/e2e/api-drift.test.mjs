// The committed typed client (src/lib/api/schema.d.ts) matches what the running binary
// documents at /api/v1/openapi.json, generated exactly as `npm run gen:api` does.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { generateSchema, SCHEMA_FILE } from '../scripts/api-schema.mjs';
import { startStack } from './support/stack.mjs';

let stack;
before(async () => {
  stack = await startStack('api-drift');
});
after(async () => {
  await stack?.stop();
});

test('src/lib/api/schema.d.ts matches the served /api/v1/openapi.json', async () => {
  const source = `${stack.baseUrl}/api/v1/openapi.json`;
  const generated = await generateSchema(source);
  const committed = await readFile(SCHEMA_FILE, 'utf8');
  if (generated === committed) return;
  const a = committed.split('\n');
  const b = generated.split('\n');
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i += 1;
  const show = (lines) => lines.slice(Math.max(0, i - 2), i + 4).map((l, k) => `  ${Math.max(0, i - 2) + k + 1}: ${l}`).join('\n');
  assert.fail(
    `src/lib/api/schema.d.ts has drifted from the API (${a.length} committed lines, ${b.length} generated; first difference at line ${i + 1}).\n` +
      `committed:\n${show(a)}\nserved:\n${show(b)}\n` +
      'Regenerate it against a server built from this tree and commit it:\n' +
      '  ./scripts/dev   # or: IGSHOP_ENV=local PORT=7180 target/debug/handler serve\n' +
      '  cd frontend && OPENAPI_SOURCE=http://127.0.0.1:7071/api/v1/openapi.json npm run gen:api',
  );
});
