// Generates src/lib/api/schema.d.ts from the served OpenAPI document.
//   npm run gen:api                       # from http://127.0.0.1:7071/api/v1/openapi.json
//   OPENAPI_SOURCE=http://127.0.0.1:7180/api/v1/openapi.json npm run gen:api
//   OPENAPI_SOURCE=./openapi.json npm run gen:api
//   npm run gen:api -- --check            # exit 1 when the committed file differs (drift)
import { readFile, writeFile } from 'node:fs/promises';
import { generateSchema, SCHEMA_FILE } from './api-schema.mjs';

const source = process.env.OPENAPI_SOURCE ?? 'http://127.0.0.1:7071/api/v1/openapi.json';
const target = SCHEMA_FILE;
const check = process.argv.includes('--check');

const generated = await generateSchema(source);

if (check) {
  const current = await readFile(target, 'utf8').catch(() => '');
  if (current !== generated) {
    console.error(`src/lib/api/schema.d.ts differs from ${source}: run npm run gen:api`);
    process.exit(1);
  }
  console.log(`src/lib/api/schema.d.ts matches ${source}`);
} else {
  await writeFile(target, generated);
  console.log(`wrote src/lib/api/schema.d.ts from ${source}`);
}
