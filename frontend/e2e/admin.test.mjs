// The product owner's console, end to end in Chromium against one stack: the server holds the
// licence signing key and the whitelist names only the other shop. The journey: the admin
// signs in → licenses a shop that had none → that shop's DM gets the fake model's reply →
// the cost tracker shows the shop's test-chat cost for today. Then: a wrong password shows the
// API's message; a merchant's session cannot reach the console; a second server without a
// signing key shows the licences read-only with the CLI commands; a shop is disabled and
// enabled; a conversation is viewed (and audited). Every console screen passes axe and is
// photographed (English and Arabic, 1280 and 390 wide) into .data/e2e-screenshots/admin-*.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import AxeBuilder from '@axe-core/playwright';
import { DM_REPLY } from './support/fake-model.mjs';
import { api, en, tr } from './support/app.mjs';
import { until } from './support/poll.mjs';
import { LOGS, SCREENSHOTS, SHOP_A, SHOP_B, dmEvent, signInWithInstagram, startStack } from './support/stack.mjs';

const ADMIN = { email: 'owner@example.com', password: `correct horse ${Date.now()}` };
const CUSTOMER = '2234567890123456';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

let stack;
let adminContext;
let admin;
let merchantContext;
let shopId;

before(async () => {
  stack = await startStack('admin', {
    licensed: [SHOP_B],
    signing: true,
    // The fake model's name priced, so its calls cost something.
    env: { LLM_PRICES: 'fake-model=2.50/1.25/10.00' },
  });
  mkdirSync(SCREENSHOTS, { recursive: true });
  await stack.createAdmin(ADMIN.email, ADMIN.password);
  // The shop signs up (Instagram sign-in licenses nothing by itself).
  merchantContext = await stack.newContext();
  const merchantPage = await merchantContext.newPage();
  await signInWithInstagram(stack, merchantPage, SHOP_A);
  await merchantPage.close();
  const me = await api(merchantContext, stack.baseUrl, 'GET', '/api/v1/me');
  shopId = me.body.tenant.id;
  adminContext = await stack.newContext({ viewport: DESKTOP });
  admin = await adminContext.newPage();
});
after(async () => {
  await stack?.stop();
});

const go = (path) => admin.goto(`${stack.baseUrl}${path}`);
const STEP = { timeout: 90_000 };
let shots = 0;

function step(t, name, body) {
  return t.test(name, STEP, async () => {
    try {
      await body();
    } catch (e) {
      const file = join(LOGS, `admin-failed-${String(++shots).padStart(2, '0')}.png`);
      await admin.screenshot({ path: file, fullPage: true }).catch(() => {});
      e.message += `\n(screenshot: ${file})`;
      throw e;
    }
  });
}

async function signIn(page, password) {
  await page.getByLabel(en('admin', 'signin.email')).fill(ADMIN.email);
  await page.getByLabel(en('admin', 'signin.password')).fill(password);
  await page.getByRole('button', { name: en('admin', 'signin.submit') }).click();
}

/** Calls the admin API with the context's admin session (and its CSRF token for writes). */
async function adminApi(context, baseUrl, method, path, body) {
  const headers = {};
  if (method !== 'GET') {
    const me = await context.request.get(`${baseUrl}/api/admin/me`);
    headers['x-csrf-token'] = (await me.json()).csrf_token;
  }
  const r = await context.request.fetch(`${baseUrl}${path}`, { method, headers, ...(body === undefined ? {} : { data: body }) });
  const text = await r.text();
  let parsed = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: r.status(), body: parsed };
}

test('admin journey: sign in → license a shop → its AI replies → its cost shows', { timeout: 10 * 60_000 }, async (t) => {
  await step(t, 'a wrong password shows the API message; the right one opens the console', async () => {
    await go('/admin/licences');
    await admin.waitForURL((u) => u.pathname === '/admin/signin');
    await signIn(admin, 'not the password');
    const error = admin.getByTestId('admin-signin-error');
    await error.waitFor();
    assert.match(await error.innerText(), /Wrong e-mail or password\./);
    await signIn(admin, ADMIN.password);
    // Back where the admin was going.
    await admin.waitForURL((u) => u.pathname === '/admin/licences');
    await admin.getByRole('heading', { level: 1, name: en('admin', 'licences.title') }).waitFor();
    assert.equal(await admin.getByTestId('admin-email').innerText(), ADMIN.email);
  });

  await step(t, 'the unlicensed shop gets no AI reply, and the console shows the licence alert', async () => {
    assert.equal(await stack.postWebhook(dmEvent({ account: SHOP_A.id, customer: CUSTOMER, text: 'مرحبا، في عندكم فساتين؟' })), 200);
    await go('/admin/alerts');
    await until(
      'the licence alert of the shop',
      async () => {
        await admin.reload();
        await admin.getByRole('heading', { level: 1 }).waitFor();
        return (await admin.locator(`[data-kind=licence]`).filter({ hasText: `@${SHOP_A.username}` }).count()) > 0;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    assert.equal(stack.ig.sentMessages().length, 0, 'no reply was sent for the unlicensed shop');
    // Acknowledging closes the stored alert.
    const alert = admin.locator('[data-kind=licence]').filter({ hasText: `@${SHOP_A.username}` }).first();
    await alert.getByRole('button', { name: en('admin', 'alerts.acknowledge') }).click();
    await until('the alert acknowledged', async () => (await admin.locator('[data-kind=licence]').count()) === 0);
  });

  await step(t, 'licences: the shop without a licence is licensed from the console (signed and published)', async () => {
    await admin.getByRole('navigation', { name: en('admin', 'nav.label') }).getByRole('link', { name: en('admin', 'nav.licences') }).click();
    await admin.waitForURL((u) => u.pathname === '/admin/licences');
    // The whitelist of the stack names the other shop only.
    await admin.locator(`[data-testid=licence-row][data-handle="${SHOP_B.username}"]`).waitFor();
    const unlicensed = admin.getByTestId('unlicensed-shops');
    await unlicensed.getByRole('button', { name: en('admin', 'licences.licenseLabel', { handle: SHOP_A.username }) }).click();
    const dialog = admin.getByRole('dialog');
    await dialog.getByRole('button', { name: en('admin', 'licences.signAndPublish') }).click();
    await dialog.waitFor({ state: 'hidden' });
    const row = admin.locator(`[data-testid=licence-row][data-handle="${SHOP_A.username}"]`);
    await row.waitFor();
    assert.equal(await row.getByTestId('days-left').getAttribute('data-tone'), 'ok');
    const view = await adminApi(adminContext, stack.baseUrl, 'GET', '/api/admin/licences');
    const licence = view.body.licences.find((l) => l.handle === SHOP_A.username);
    assert.ok(licence && licence.state === 'valid' && licence.days_left >= 364, JSON.stringify(licence));
    assert.equal(licence.tenant?.id, shopId);
    await admin.getByTestId('unlicensed-empty').waitFor();
  });

  await step(t, "the shop's next DM gets the fake model's reply", async () => {
    assert.equal(await stack.postWebhook(dmEvent({ account: SHOP_A.id, customer: CUSTOMER, text: 'كم سعر الفستان الأحمر؟' })), 200);
    await until(
      'the AI reply through the fake Instagram',
      () => stack.ig.sentMessages().some((m) => m.json.message.text === DM_REPLY && m.json.recipient.id === CUSTOMER),
      { timeoutMs: 30_000 },
    );
    // The tile says licensed, with the AI reply counted.
    await go('/admin');
    const tile = admin.locator(`[data-testid=tenant-tile][data-handle="${SHOP_A.username}"]`);
    await until('the licensed tile', async () => (await tile.getByTestId('tenant-licence').innerText()) === en('admin', 'licenceState.valid'));
  });

  await step(t, "cost tracker: the shop's test chat shows as a non-zero cost for today", async () => {
    const chat = await api(merchantContext, stack.baseUrl, 'POST', '/api/v1/test-chat', { message: 'شو عندكم عبايات؟', reset: true });
    assert.equal(chat.status, 200, JSON.stringify(chat.body));
    assert.equal(chat.body.reply, DM_REPLY);
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Amman', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
    await admin.getByRole('navigation', { name: en('admin', 'nav.label') }).getByRole('link', { name: en('admin', 'nav.costs') }).click();
    await admin.waitForURL((u) => u.pathname === '/admin/costs');
    const cell = admin.locator(`[data-testid=cost-day][data-handle="${SHOP_A.username}"][data-day="${today}"] [data-testid=cost-day-usd]`);
    await cell.waitFor();
    const usd = Number(await cell.getAttribute('data-usd'));
    assert.ok(usd > 0, `cost of ${SHOP_A.username} on ${today}: ${usd}`);
    // Two replies (the DM and the test chat) at 1200 in / 40 out tokens and these prices.
    const perCall = (1200 * 2.5 + 40 * 10) / 1e6;
    assert.ok(usd >= 2 * perCall - 1e-9, `${usd} covers the DM reply and the test chat (${perCall} each)`);
    await admin.getByTestId('cost-chart').waitFor();
    assert.match(await admin.getByTestId('cost-models').innerText(), /fake-model/);
    assert.match(await admin.getByTestId('cost-prices').innerText(), /fake-model/);
  });

  await step(t, 'budget: set for the shop shows spent / limit; removed again', async () => {
    const item = admin.getByTestId('budget-list').locator(`li[data-handle="${SHOP_A.username}"]`);
    await item.getByRole('button', { name: en('admin', 'budget.setLabel', { name: `@${SHOP_A.username}` }) }).click();
    const dialog = admin.getByRole('dialog');
    await dialog.getByLabel(en('admin', 'budget.amount')).fill('0');
    await dialog.getByRole('button', { name: en('common', 'actions.save') }).click();
    await dialog.getByText(en('admin', 'budget.amountInvalid')).waitFor();
    await dialog.getByLabel(en('admin', 'budget.amount')).fill('25');
    await dialog.getByText(en('admin', 'budget.pause')).click();
    await dialog.getByRole('button', { name: en('common', 'actions.save') }).click();
    await dialog.waitFor({ state: 'hidden' });
    await item.getByText(en('admin', 'budget.pauses')).waitFor();
    await item.getByText(en('admin', 'budget.state.ok')).waitFor();
    const tiles = await adminApi(adminContext, stack.baseUrl, 'GET', '/api/admin/tenants');
    const budget = tiles.body.tenants.find((x) => x.id === shopId).budget;
    assert.equal(budget.pause_at_limit, true);
    assert.equal(Number(budget.monthly_usd), 25);
    await item.getByRole('button', { name: en('admin', 'budget.removeLabel', { name: `@${SHOP_A.username}` }) }).click();
    await admin.getByRole('alertdialog').getByRole('button', { name: en('admin', 'budget.remove') }).click();
    await item.getByRole('button', { name: en('admin', 'budget.setLabel', { name: `@${SHOP_A.username}` }) }).waitFor();
    assert.equal((await adminApi(adminContext, stack.baseUrl, 'GET', '/api/admin/tenants')).body.tenants.find((x) => x.id === shopId).budget, null);
  });
});

test('after 5 wrong passwords the account is locked: the sign-in says so, with the time', { timeout: 60_000 }, async () => {
  const other = { email: 'second.owner@example.com', password: `another long one ${Date.now()}` };
  await stack.createAdmin(other.email, other.password);
  const context = await stack.newContext();
  for (let i = 0; i < 5; i++) {
    const r = await context.request.post(`${stack.baseUrl}/api/admin/auth/sign-in`, { data: { email: other.email, password: `wrong ${i}` } });
    assert.equal(r.status(), 401);
  }
  const page = await context.newPage();
  await page.goto(`${stack.baseUrl}/admin/signin`, { timeout: 45_000 });
  await page.getByLabel(en('admin', 'signin.email')).fill(other.email);
  // Even the right password is refused while locked.
  await page.getByLabel(en('admin', 'signin.password')).fill(other.password);
  await page.getByRole('button', { name: en('admin', 'signin.submit') }).click();
  const error = page.getByTestId('admin-signin-error');
  await error.waitFor();
  const text = await error.innerText();
  assert.ok(text.includes(en('admin', 'signin.locked')), text);
  assert.match(text, /Too many failed sign-ins for this account; try again in 1[45] minute\(s\)\./);
  assert.equal(new URL(page.url()).pathname, '/admin/signin');
  await context.close();
});

test('a merchant session cannot reach the console: the admin sign-in is shown', { timeout: 60_000 }, async () => {
  const page = await merchantContext.newPage();
  await page.goto(`${stack.baseUrl}/admin/costs`);
  await page.waitForURL((u) => u.pathname === '/admin/signin');
  await page.getByRole('heading', { level: 1, name: en('admin', 'signin.title') }).waitFor();
  for (const path of ['/api/admin/tenants', '/api/admin/costs', '/api/admin/licences', '/api/admin/me']) {
    const r = await api(merchantContext, stack.baseUrl, 'GET', path);
    assert.equal(r.status, 401, `${path}: ${JSON.stringify(r.body)}`);
  }
  await page.close();
});

test('without a signing key the licences are read-only and show the CLI commands', { timeout: 90_000 }, async () => {
  const readOnly = await stack.startSecondServer('read-only', { LICENCE_SIGNING_KEY: undefined });
  try {
    // The admin session is the same database's, so the same cookie signs in here too.
    const page = await adminContext.newPage();
    await page.goto(`${readOnly.baseUrl}/admin/licences`);
    await page.getByTestId('licences-read-only').waitFor();
    const cli = await page.getByTestId('licence-cli').innerText();
    assert.match(cli, /handler licence add --handle <handle> --expiry <YYYY-MM-DD>/);
    assert.match(cli, /handler licence publish/);
    assert.equal(await page.getByRole('button', { name: en('admin', 'licences.add') }).count(), 0);
    assert.equal(await page.getByRole('button', { name: en('admin', 'licences.extend') }).count(), 0);
    // Both licences are still listed.
    await page.locator(`[data-testid=licence-row][data-handle="${SHOP_A.username}"]`).waitFor();
    const refused = await adminApi(adminContext, readOnly.baseUrl, 'PUT', `/api/admin/licences/${SHOP_B.username}`, { expires_on: '2099-01-01' });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error, 'read_only');
    assert.ok(refused.body.cli.some((c) => c.includes(`--handle ${SHOP_B.username} --expiry 2099-01-01`)), JSON.stringify(refused.body));
    await shoot(page, 'admin-en-licences-read-only');
    await page.close();
  } finally {
    await readOnly.stop();
  }
});

test('a shop is disabled and enabled again, each after a confirmation', { timeout: 60_000 }, async () => {
  await go('/admin');
  const tile = admin.locator(`[data-testid=tenant-tile][data-handle="${SHOP_A.username}"]`);
  await tile.getByRole('button', { name: en('admin', 'tenants.disableLabel', { name: `@${SHOP_A.username}` }) }).click();
  const confirm = admin.getByRole('alertdialog');
  await confirm.getByText(en('admin', 'tenants.disableBody')).waitFor();
  await confirm.getByRole('button', { name: en('admin', 'tenants.disable') }).click();
  await until('the tile disabled', async () => (await tile.getAttribute('data-status')) === 'disabled');
  assert.equal(await tile.getByTestId('tenant-licence').innerText(), en('admin', 'licenceState.disabled'));
  await tile.getByRole('button', { name: en('admin', 'tenants.enableLabel', { name: `@${SHOP_A.username}` }) }).click();
  await admin.getByRole('alertdialog').getByRole('button', { name: en('admin', 'tenants.enable') }).click();
  await until('the tile active', async () => (await tile.getAttribute('data-status')) === 'active');
  assert.equal(await stack.sql(`SELECT string_agg(action, ',' ORDER BY id) FROM audit_log WHERE action LIKE 'tenant.%'`), 'tenant.disable,tenant.enable');
});

test('a conversation is viewed read-only, and the view is audited', { timeout: 60_000 }, async () => {
  await go('/admin');
  const tile = admin.locator(`[data-testid=tenant-tile][data-handle="${SHOP_A.username}"]`);
  await tile.getByRole('link', { name: en('admin', 'tenants.conversationsOf', { name: `@${SHOP_A.username}` }) }).click();
  await admin.waitForURL((u) => u.pathname === '/admin/conversations' && u.searchParams.get('shop') === shopId);
  await admin.getByTestId('audit-notice').waitFor();
  const rows = admin.getByTestId('admin-conversation-row');
  await rows.first().waitFor();
  const before = Number(await stack.sql(`SELECT count(*) FROM audit_log WHERE action = 'conversation.view'`));
  // The Instagram conversation (the test chat is listed too, as its own channel).
  await rows.filter({ hasText: en('admin', 'kind.instagram') }).first().getByRole('link').click();
  await admin.waitForURL((u) => u.pathname.startsWith(`/admin/conversations/${shopId}/`));
  const thread = admin.getByTestId('admin-thread');
  await thread.waitFor();
  await thread.getByText('كم سعر الفستان الأحمر؟').waitFor();
  await thread.locator('[data-author=ai]').getByText(DM_REPLY).waitFor();
  await admin.getByTestId('audit-notice').waitFor();
  assert.equal(await admin.getByRole('textbox').count(), 0, 'nothing can be typed or sent');
  const after = Number(await stack.sql(`SELECT count(*) FROM audit_log WHERE action = 'conversation.view'`));
  assert.equal(after, before + 1);
});

// Every console screen, English and Arabic: axe (no serious or critical), photographed.
const SCREENS = [
  ['tenants', '/admin'],
  ['licences', '/admin/licences'],
  ['conversations', () => `/admin/conversations?shop=${shopId}`],
  ['conversation', null],
  ['costs', '/admin/costs'],
  ['alerts', '/admin/alerts'],
];

let signedOut;
for (const lang of ['en', 'ar']) {
  test(`${lang}: every console screen passes axe and is photographed`, { timeout: 5 * 60_000 }, async (t) => {
    if (lang === 'en') {
      // A licence ending in 5 days: an orange badge on Licences and a live alert on Alerts.
      const soon = new Date(Date.now() + 5 * 86_400_000).toISOString().slice(0, 10);
      const set = await adminApi(adminContext, stack.baseUrl, 'PUT', '/api/admin/licences/ending.soon', { expires_on: soon });
      assert.equal(set.status, 200, JSON.stringify(set.body));
    }
    await t.test(`${lang} admin sign-in`, async () => {
      // One signed-out browser for both languages (a cold Chromium start is slow on a busy machine).
      signedOut ??= await stack.newContext({ viewport: DESKTOP });
      const p = await signedOut.newPage();
      await p.goto(`${stack.baseUrl}/admin/signin`, { timeout: 45_000 });
      await setLanguage(p, lang);
      await p.getByRole('heading', { level: 1 }).waitFor();
      await shoot(p, `admin-${lang}-signin`);
      const bad = await audit(p, `${lang} admin sign-in`);
      await p.close();
      assert.ok(bad.length === 0, bad.join('\n  '));
    });
    for (const [name, path] of SCREENS) {
      await t.test(`${lang} ${name}`, async () => {
        if (name === 'conversation') {
          await go(`/admin/conversations?shop=${shopId}`);
          await admin.getByTestId('admin-conversation-row').filter({ hasText: tr(lang, 'admin', 'kind.instagram') }).first().getByRole('link').click();
          await admin.getByTestId('admin-thread').waitFor();
        } else {
          await go(typeof path === 'function' ? path() : path);
        }
        await setLanguage(admin, lang);
        await settled(admin);
        if (name === 'alerts') await admin.locator('[data-kind=licence_expiring]').filter({ hasText: '@ending.soon' }).waitFor();
        await shoot(admin, `admin-${lang}-${name}`);
        const bad = await audit(admin, `${lang} ${name}`);
        assert.ok(bad.length === 0, `${lang} ${name}:\n  ${bad.join('\n  ')}`);
      });
    }
  });
}

async function settled(p) {
  await p.locator('h1').first().waitFor();
  await until('no loading skeleton', async () => (await p.locator('.chakra-skeleton, [data-loading], [aria-busy=true]').count()) === 0, {
    timeoutMs: 10_000,
  });
}

async function audit(p, label) {
  const result = await new AxeBuilder({ page: p }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of result.violations.filter((v) => !bad.includes(v))) {
    console.log(`# axe ${label}: ${v.impact} ${v.id} (${v.nodes.length}) ${v.help}`);
  }
  return bad.map(
    (v) =>
      `${v.impact} ${v.id}: ${v.help}\n    ${v.nodes
        .slice(0, 3)
        .map((n) => `${n.target.join(' ')}  ${n.html.replace(/\s+/g, ' ').slice(0, 160)}`)
        .join('\n    ')}`,
  );
}

async function shoot(p, name) {
  const size = p.viewportSize() ?? DESKTOP;
  await p.screenshot({ path: join(SCREENSHOTS, `${name}-desktop.png`), fullPage: true });
  await p.setViewportSize(PHONE);
  await p.screenshot({ path: join(SCREENSHOTS, `${name}-phone.png`), fullPage: true });
  await p.setViewportSize(size);
}

async function setLanguage(p, lang) {
  await p.getByTestId('language-switch').first().waitFor();
  const current = await p.evaluate(() => document.documentElement.lang);
  if (current !== lang) {
    await p.getByRole('button', { name: tr(current === 'ar' ? 'ar' : 'en', 'common', `language.switchTo_${lang}`) }).first().click();
  }
  await until(`<html lang="${lang}">`, async () =>
    (await p.evaluate(() => `${document.documentElement.lang} ${document.documentElement.dir}`)) === `${lang} ${lang === 'ar' ? 'rtl' : 'ltr'}`,
  );
}

test('signing out ends the admin session: the console asks to sign in again', { timeout: 60_000 }, async () => {
  await go('/admin/costs');
  await admin.getByRole('heading', { level: 1 }).waitFor();
  const lang = (await admin.evaluate(() => document.documentElement.lang)) === 'ar' ? 'ar' : 'en';
  await admin.getByRole('button', { name: tr(lang, 'common', 'actions.signOut') }).click();
  await admin.waitForURL((u) => u.pathname === '/admin/signin');
  const me = await adminContext.request.get(`${stack.baseUrl}/api/admin/me`);
  assert.equal(me.status(), 401);
  await go('/admin/licences');
  await admin.waitForURL((u) => u.pathname === '/admin/signin' && u.searchParams.get('next') === '/admin/licences');
});
