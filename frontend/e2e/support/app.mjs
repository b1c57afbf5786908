// What the suite knows about the app: its strings (read from src/locales, so a test finds
// controls by the same accessible names a merchant sees), and API calls made as a signed-in
// context (session cookie + X-CSRF-Token), used to check what the screens claim.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FRONTEND } from './stack.mjs';

const cache = new Map();
/** The string at `key` ("actions.signOut") of namespace `ns` in `lang`, with {{vars}} filled. */
export function tr(lang, ns, key, vars = {}) {
  const file = join(FRONTEND, 'src/locales', lang, `${ns}.json`);
  if (!cache.has(file)) cache.set(file, JSON.parse(readFileSync(file, 'utf8')));
  let v = key.split('.').reduce((o, k) => (o == null ? undefined : o[k]), cache.get(file));
  if (typeof v !== 'string') throw new Error(`no string ${lang}/${ns}:${key}`);
  for (const [k, val] of Object.entries(vars)) v = v.replaceAll(`{{${k}}}`, String(val));
  return v;
}
export const en = (ns, key, vars) => tr('en', ns, key, vars);
export const ar = (ns, key, vars) => tr('ar', ns, key, vars);

/**
 * Calls the API with the context's session; returns { status, body }. `body`: JSON, a string,
 * or `{ multipart: { field: value | { name, mimeType, buffer } } }`.
 */
export async function api(context, baseUrl, method, path, body) {
  const headers = {};
  if (method !== 'GET') {
    const me = await context.request.get(`${baseUrl}/api/v1/me`);
    headers['x-csrf-token'] = (await me.json()).csrf_token;
  }
  const r = await context.request.fetch(`${baseUrl}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : body?.multipart ? { multipart: body.multipart } : { data: body }),
  });
  const text = await r.text();
  let parsed = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: r.status(), body: parsed };
}
