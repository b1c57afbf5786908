// The end-to-end stack, one per test file: a fresh database on the cluster of
// DATABASE_ADMIN_URL (dropped at the end), the scripted Instagram and model servers, the real
// `target/debug/handler serve` on a free loopback port serving frontend/dist, and Debian's
// Chromium driven by playwright-core with a fresh profile per browser context.
import { spawn, execFile } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { startFakeInstagram } from './fake-instagram.mjs';
import { startFakeModel } from './fake-model.mjs';
import { freePort } from './http.mjs';
import { until } from './poll.mjs';

const run = promisify(execFile);

export const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
export const FRONTEND = join(ROOT, 'frontend');
/** The binary under test; IGSHOP_E2E_HANDLER points elsewhere when developing the suite. */
export const HANDLER = process.env.IGSHOP_E2E_HANDLER ?? join(ROOT, 'target/debug/handler');
export const CHROMIUM = process.env.IGSHOP_E2E_CHROMIUM ?? '/usr/bin/chromium';
/** The built app the binary serves (IGSHOP_E2E_DIST: a build of one's own, e.g. in a shared tree). */
export const DIST = process.env.IGSHOP_E2E_DIST ?? join(FRONTEND, 'dist');
export const SCREENSHOTS = join(ROOT, '.data/e2e-screenshots');
export const LOGS = join(ROOT, '.data/e2e-logs');

/** The shop the journey signs in as through the fake Instagram. */
export const SHOP_A = { id: '17841400000000001', username: 'layla.boutique' };
export const SHOP_B = { id: '17841400000000002', username: 'other.shop' };
/** The SKU the scripted model orders in test chat (the journey's CSV has it). */
export const ORDER_SKU = 'DRS-RED-01';

function dbUrlWithName(url, name) {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function psql(url, sql) {
  await run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', url, '-c', sql]);
}

/**
 * Starts everything. `name` names the log file. Call `stop()` in an `after` hook (it is
 * safe to call after a failed start). Options: `licensed` — the shops the first whitelist
 * names (default both); `signing` — the server holds LICENCE_SIGNING_KEY (the admin console
 * can then change licences); `env` — more settings.
 */
export async function startStack(name, options = {}) {
  const cleanups = [];
  const stack = { cleanups };
  stack.stop = async () => {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch (e) {
        console.error(`cleanup: ${e.message}`);
      }
    }
    cleanups.length = 0;
  };
  // An interrupted run still drops its database and stops its server.
  const onSignal = (signal) => {
    void stack.stop().finally(() => process.kill(process.pid, signal));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  cleanups.push(() => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  });
  try {
    await start(stack, name, options);
  } catch (e) {
    await stack.stop();
    throw e;
  }
  return stack;
}

async function start(stack, name, { licensed = [SHOP_A, SHOP_B], signing = false, env: extraEnv = {} } = {}) {
  const { cleanups } = stack;
  const admin = process.env.DATABASE_ADMIN_URL;
  const app = process.env.DATABASE_URL;
  if (!admin || !app) throw new Error('DATABASE_ADMIN_URL and DATABASE_URL must be set (scripts/test sets them)');
  if (!process.env.AZURE_STORAGE_CONNECTION_STRING) throw new Error('AZURE_STORAGE_CONNECTION_STRING must be set (Azurite)');
  if (!existsSync(HANDLER)) throw new Error(`${HANDLER} is missing: cargo build -p handlers --bin handler`);
  if (!existsSync(join(DIST, 'index.html'))) throw new Error(`${DIST}/index.html is missing: npm run build`);
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);

  // A database of its own.
  const db = `igshop_e2e_${randomBytes(6).toString('hex')}`;
  await psql(admin, `CREATE DATABASE ${db}`);
  cleanups.push(() => psql(admin, `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`));
  const dbEnv = { DATABASE_ADMIN_URL: dbUrlWithName(admin, db), DATABASE_URL: dbUrlWithName(app, db) };

  // The scripted servers.
  const ig = await startFakeInstagram();
  cleanups.push(ig.close);
  ig.setAccount(SHOP_A.id, SHOP_A.username);
  const model = await startFakeModel({ orderSku: ORDER_SKU });
  cleanups.push(model.close);

  const secret = () => randomBytes(24).toString('hex');
  const secrets = {
    INSTAGRAM_APP_ID: String(1_000_000_000 + Math.floor(Math.random() * 1e9)),
    INSTAGRAM_APP_SECRET: secret(),
    META_APP_SECRET: secret(),
    META_VERIFY_TOKEN: secret(),
    TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  };
  // Licences: a key pair of this run and a signed whitelist naming both shops (the AI
  // answers only licensed shops; Instagram sign-in licenses nothing by itself).
  const licenceDir = await mkdtemp(join(tmpdir(), 'igshop-e2e-licence-'));
  cleanups.push(() => rm(licenceDir, { recursive: true, force: true }));
  const whitelist = join(licenceDir, 'whitelist.sig');
  const privateKey = join(licenceDir, 'licence-private.pem');
  await run(HANDLER, ['licence', 'keygen', '--out', licenceDir]);
  const expiry = new Date(Date.now() + 365 * 86_400_000).toISOString().slice(0, 10);
  for (const shop of licensed) {
    await run(HANDLER, ['licence', 'add', '--handle', shop.username, '--expiry', expiry, '--private-key', privateKey, '--whitelist', whitelist]);
  }
  const licenceEnv = {
    LICENCE_PUBLIC_KEY: await readFile(join(licenceDir, 'licence-public.pem'), 'utf8'),
    LICENCE_WHITELIST_PATH: whitelist,
    ...(signing ? { LICENCE_SIGNING_KEY: await readFile(privateKey, 'utf8') } : {}),
  };

  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AZURE_STORAGE_CONNECTION_STRING: process.env.AZURE_STORAGE_CONNECTION_STRING,
    ...dbEnv,
    ...secrets,
    ...licenceEnv,
    IGSHOP_SETTINGS_FILE: '/nonexistent',
    IGSHOP_ENV: 'local',
    PORT: String(port),
    BIND_ADDRESS: '127.0.0.1',
    FRONTEND_DIST: DIST,
    PUBLIC_BASE_URL: baseUrl,
    INSTAGRAM_AUTHORIZE_URL: `${ig.url}/oauth/authorize`,
    INSTAGRAM_API_BASE: ig.url,
    INSTAGRAM_GRAPH_BASE: ig.url,
    LLM_PROVIDER: 'openai',
    OPENAI_BASE_URL: model.url,
    OPENAI_API_KEY: `test-${secret()}`,
    OPENAI_CHAT_MODEL: 'fake-model',
    OPENAI_EMBEDDING_MODEL: 'none',
    AGENT_QUIET_MS: '100',
    SEARCH_BACKEND: 'postgres',
    RUST_LOG: process.env.RUST_LOG ?? 'warn',
    ...extraEnv,
  };

  await run(HANDLER, ['migrate'], { env, cwd: ROOT }).catch((e) => {
    throw new Error(`handler migrate failed: ${e.stderr || e.message}`);
  });

  mkdirSync(LOGS, { recursive: true });
  /** `handler serve` with `serveEnv` on `port`, logging to `logPath`; stopped by stop(). */
  const serve = async (serveEnv, port, logPath) => {
    const log = createWriteStream(logPath);
    const child = spawn(HANDLER, ['serve'], { env: serveEnv, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    let exited = null;
    const exit = new Promise((r) => child.once('exit', (code, signal) => r((exited = { code, signal }))));
    const stopServer = async () => {
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exit;
        clearTimeout(timer);
      }
      log.end();
    };
    cleanups.push(stopServer);
    await until(
      'handler serve to answer /api/v1/auth/options',
      async () => {
        if (exited) throw new Error(`handler exited (${JSON.stringify(exited)}), see ${logPath}`);
        const r = await fetch(`http://127.0.0.1:${port}/api/v1/auth/options`).catch(() => null);
        return r?.ok;
      },
      { timeoutMs: 20_000 },
    );
    return stopServer;
  };
  const logPath = join(LOGS, `${name}-handler.log`);
  await serve(env, port, logPath);

  /**
   * A second `handler serve` on the same database with some settings changed (e.g. without
   * LICENCE_SIGNING_KEY), polling a queue of its own so it never takes the first one's work.
   * Resolves with { baseUrl, stop }.
   */
  stack.startSecondServer = async (label, overrides) => {
    const secondPort = await freePort();
    const secondEnv = { ...env, QUEUE_NAME: `second-${label}`, ...overrides, PORT: String(secondPort) };
    for (const [k, v] of Object.entries(secondEnv)) if (v === undefined) delete secondEnv[k];
    const stopSecond = await serve(secondEnv, secondPort, join(LOGS, `${name}-${label}-handler.log`));
    return { baseUrl: `http://127.0.0.1:${secondPort}`, stop: stopSecond };
  };

  /** An admin account made as the README says: `handler admin create-user`, password on stdin. */
  stack.createAdmin = (email, password) =>
    new Promise((resolvePromise, reject) => {
      const child = execFile(HANDLER, ['admin', 'create-user', '--email', email], { env, cwd: ROOT }, (e, stdout, stderr) =>
        e ? reject(new Error(`handler admin create-user failed: ${stderr || e.message}`)) : resolvePromise(stdout),
      );
      child.stdin.end(`${password}\n`);
    });

  /** One SQL query's first column as text (psql -tA), on this stack's database as its admin. */
  stack.sql = async (query) => (await run('psql', ['-X', '-tA', '-v', 'ON_ERROR_STOP=1', dbEnv.DATABASE_ADMIN_URL, '-c', query])).stdout.trim();

  Object.assign(stack, { baseUrl, ig, model, secrets, env, logPath, db });

  /** A browser context with a fresh profile directory (closed by stop()). */
  stack.newContext = async ({ locale = 'en-US', viewport = { width: 1280, height: 900 }, ...rest } = {}) => {
    const dir = await mkdtemp(join(tmpdir(), 'igshop-e2e-chromium-'));
    const context = await chromium.launchPersistentContext(dir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      locale,
      viewport,
      acceptDownloads: true,
      timezoneId: 'Asia/Amman',
      ...rest,
    });
    context.setDefaultTimeout(10_000);
    context.setDefaultNavigationTimeout(15_000);
    cleanups.push(async () => {
      await context.close().catch(() => {});
      await rm(dir, { recursive: true, force: true });
    });
    return context;
  };

  /** POSTs a webhook body signed with the Meta app secret, as Meta does. */
  stack.postWebhook = async (payload) => {
    const raw = JSON.stringify(payload);
    const sig = createHmac('sha256', secrets.META_APP_SECRET).update(raw).digest('hex');
    const r = await fetch(`${baseUrl}/api/instagram/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${sig}` },
      body: raw,
    });
    return r.status;
  };
}

/** A customer's text DM to `account`, in Instagram's webhook shape (events.rs). */
export function dmEvent({ account, customer, text, mid = `m_${randomBytes(8).toString('hex')}` }) {
  const now = Date.now();
  return {
    object: 'instagram',
    entry: [
      {
        id: account,
        time: now,
        messaging: [
          { sender: { id: customer }, recipient: { id: account }, timestamp: now, message: { mid, text } },
        ],
      },
    ],
  };
}

/** Signs a context in through "Continue with Instagram" against the fake Instagram. */
export async function signInWithInstagram(stack, page, account) {
  stack.ig.setAccount(account.id, account.username);
  await page.goto(`${stack.baseUrl}/signin`);
  await page.getByRole('link', { name: 'Continue with Instagram' }).click();
  await page.getByRole('link', { name: 'Allow' }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/signin') && u.origin === stack.baseUrl);
}
