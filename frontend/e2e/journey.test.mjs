// The merchant's journey, end to end in Chromium against the real `handler serve`, Postgres,
// Azurite and the scripted Instagram and model servers. Each step is a subtest, so the
// summary says which step passed; every step opens its own page, so one failed step does not
// hide the others. Then: another shop never sees this shop's data.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ORDER_CONFIRMED, ORDER_TRIGGER, DM_REPLY } from './support/fake-model.mjs';
import { api, ar, en } from './support/app.mjs';
import { until } from './support/poll.mjs';
import { LOGS, ORDER_SKU, SHOP_A, SHOP_B, dmEvent, signInWithInstagram, startStack } from './support/stack.mjs';

const CUSTOMER = '1234567890123456';
const DM_TEXT = 'مرحبا، كم سعر الفستان الأحمر؟';
const HUMAN_REPLY = 'أهلين، أنا سارة من المحل. الفستان متوفر بكل المقاسات.';
const ORDER_MESSAGE = `${ORDER_TRIGGER} فستانين أحمر، اسمي ليلى حداد، 0791234567، عمّان عبدون`;

// The catalog file: Arabic names, and in the first version one row whose price is not a number.
const CSV_HEADER = 'sku,name,price,stock,description';
const CSV_ROWS = [
  `${ORDER_SKU},فستان أحمر سهرة,25.000,10,فستان سهرة طويل من الشيفون`,
  'ABY-BLK-02,عباية سوداء مطرزة,40.500,5,عباية يومية بتطريز يدوي',
];
const BAD_ROW = 'SCF-SLK-03,شال حرير,غالي,3,شال حرير طبيعي';
const GOOD_ROW = 'SCF-SLK-03,شال حرير,12.750,3,شال حرير طبيعي';
const csv = (...rows) => Buffer.from([CSV_HEADER, ...rows].join('\n') + '\n', 'utf8');

const KNOWLEDGE_TEXT =
  'سياسة الإرجاع: يمكن إرجاع القطعة خلال 7 أيام من الاستلام إذا كانت بحالتها الأصلية.\n' +
  'التوصيل داخل عمّان خلال يومين، وباقي المحافظات خلال 3 إلى 4 أيام.\n';

let stack;
let context;
let page;
let conversationId;
let orderNumber;

before(async () => {
  stack = await startStack('journey');
  context = await stack.newContext();
  page = await context.newPage();
});
after(async () => {
  await stack?.stop();
});

const go = (path) => page.goto(`${stack.baseUrl}${path}`);
const STEP = { timeout: 90_000 };
let shots = 0;

/** One journey step as a subtest; a failed step leaves a screenshot next to the logs. */
function step(t, name, body) {
  return t.test(name, STEP, async () => {
    try {
      await body();
    } catch (e) {
      const file = join(LOGS, `journey-failed-${String(++shots).padStart(2, '0')}.png`);
      await page.screenshot({ path: file, fullPage: true }).catch(() => {});
      e.message += `\n(screenshot: ${file})`;
      throw e;
    }
  });
}

test('merchant journey', { timeout: 15 * 60_000 }, async (t) => {
  await step(t, 'sign in with Instagram: a new shop lands in the onboarding wizard', async () => {
    await signInWithInstagram(stack, page, SHOP_A);
    assert.equal(new URL(page.url()).pathname, '/onboarding');
  });

  await step(t, 'wizard: catalog CSV with Arabic names; the bad row is shown, the fixed file is imported', async () => {
    await go('/onboarding');
    const wizard = page.getByRole('main');
    // Step 1 says Instagram is connected, then the catalog step.
    await gotoWizardStep('instagram');
    await wizard.getByText(en('onboarding', 'instagram.connected', { handle: SHOP_A.username })).waitFor();
    await gotoWizardStep('catalog');
    const input = wizard.locator('input[type=file]').first();
    await input.setInputFiles({ name: 'products.csv', mimeType: 'text/csv', buffer: csv(...CSV_ROWS, BAD_ROW) });
    const errors = wizard.getByTestId('csv-row-errors');
    await errors.waitFor();
    // One problem: row 4 of the file (the header is row 1), its price column named.
    const problems = errors.locator('tbody tr');
    await until('one row error', async () => (await problems.count()) === 1);
    const cells = await problems.first().locator('td').allInnerTexts();
    assert.equal(cells[0], '4', cells.join(' | '));
    assert.match(cells[1], /price/i, cells.join(' | '));
    // The merchant is asked what to do with the bad row; choosing all or nothing, the import
    // waits for the fixed file.
    await wizard.getByText(en('catalog', 'import.modeQuestion')).waitFor();
    await wizard.getByText(en('catalog', 'import.modeAllOrNothing')).click();
    await wizard.getByText(en('catalog', 'import.allOrNothing')).waitFor();
    assert.ok(await wizard.getByRole('button', { name: en('catalog', 'import.commit', { n: 2 }) }).isDisabled());
    // The merchant fixes the file and drops it again.
    await input.setInputFiles({ name: 'products.csv', mimeType: 'text/csv', buffer: csv(...CSV_ROWS, GOOD_ROW) });
    await wizard.getByText('شال حرير').first().waitFor();
    await wizard.getByRole('button', { name: en('catalog', 'import.commit', { n: 3 }) }).click();
    await wizard.getByRole('status').filter({ hasText: en('catalog', 'import.done') }).waitFor();
    const items = await api(context, stack.baseUrl, 'GET', '/api/v1/catalog/items?limit=100');
    assert.equal(items.status, 200);
    const names = JSON.stringify(items.body);
    for (const n of ['فستان أحمر سهرة', 'عباية سوداء مطرزة', 'شال حرير']) assert.ok(names.includes(n), `${n} in ${names}`);
  });

  await step(t, 'wizard: a knowledge .txt file is uploaded and shown indexed', async () => {
    await go('/onboarding');
    const wizard = page.getByRole('main');
    await gotoWizardStep('knowledge_base');
    await wizard.locator('input[type=file]').first().setInputFiles({
      name: 'policies.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from(KNOWLEDGE_TEXT, 'utf8'),
    });
    const row = wizard.getByText('policies.txt').first();
    await row.waitFor();
    // Live status until indexed (the worker runs inside handler serve).
    await wizard.getByText(en('knowledge', 'status.indexed'), { exact: true }).first().waitFor({ timeout: 30_000 });
    const docs = await api(context, stack.baseUrl, 'GET', '/api/v1/knowledge/documents');
    assert.match(JSON.stringify(docs.body), /"indexed"/);
  });

  await step(t, 'wizard: the business profile is filled in and saved', async () => {
    await go('/onboarding');
    const wizard = page.getByRole('main');
    await gotoWizardStep('profile');
    await wizard.getByLabel(en('profile', 'fields.shop_name')).first().fill('بوتيك ليلى');
    // The YAML is shown beside the form and follows it.
    await until('the YAML preview shows the new name', async () =>
      (await wizard.getByTestId('profile-yaml-preview').innerText()).includes('بوتيك ليلى'),
    );
    await wizard.getByRole('button', { name: en('onboarding', 'profile.save') }).click();
    // Saved, the wizard moves on to the last step.
    await wizard.getByRole('heading', { name: en('onboarding', 'steps.finish.title'), level: 2, exact: true }).waitFor();
    await until('the profile saved through the API', async () => {
      const p = await api(context, stack.baseUrl, 'GET', '/api/v1/profile');
      return p.status === 200 && JSON.stringify(p.body).includes('بوتيك ليلى');
    });
  });

  await step(t, 'wizard: finish', async () => {
    await go('/onboarding');
    const wizard = page.getByRole('main');
    await gotoWizardStep('finish');
    await wizard.getByRole('button', { name: en('onboarding', 'finish') }).click();
    await until('the shop marked as set up (API)', async () => {
      const o = await api(context, stack.baseUrl, 'GET', '/api/v1/onboarding');
      return o.body?.completed_at;
    });
    await wizard.getByTestId('onboarding-live').filter({ hasText: en('onboarding', 'live.yes') }).waitFor();
    await wizard.getByRole('link', { name: en('onboarding', 'toDashboard') }).click();
    await page.waitForURL((u) => u.pathname === '/');
    const o = await api(context, stack.baseUrl, 'GET', '/api/v1/onboarding');
    assert.match(JSON.stringify(o.body), /completed_at":"\d/);
  });

  await step(t, 'catalog grid: a price edited in place is there after a reload', async () => {
    await ensureCatalog();
    await go('/catalog');
    const cell = priceCell(ORDER_SKU);
    await cell.waitFor();
    await cell.dblclick();
    const editor = cell.locator('input');
    await editor.fill('27.5');
    const saved = page.waitForResponse((r) => r.request().method() === 'PATCH' && r.url().includes('/api/v1/catalog/items/'));
    await editor.press('Enter');
    assert.equal((await saved).status(), 200);
    await page.reload();
    await until('the new price after reload', async () => /27[.,]500/.test(await priceCell(ORDER_SKU).innerText()));
  });

  await step(t, 'inbox: a webhook DM shows in the open inbox within 5 s', async () => {
    await go('/inbox');
    // The list has loaded (and polls): no conversation yet.
    await page.getByRole('main').getByText(en('inbox', 'empty.none')).waitFor();
    const started = Date.now();
    assert.equal(await stack.postWebhook(dmEvent({ account: SHOP_A.id, customer: CUSTOMER, text: DM_TEXT })), 200);
    const list = page.getByRole('navigation', { name: en('inbox', 'listLabel') });
    // The customer's message, or already the AI's answer to it, as the conversation's preview.
    await list.getByRole('link').filter({ hasText: /مرحبا|أهلين/ }).first().waitFor({ timeout: 5_000 });
    console.log(`# the DM showed in the inbox ${Date.now() - started} ms after the webhook`);
  });

  await step(t, "inbox: the AI's reply is in the thread (and was sent to Instagram)", async () => {
    await until('the AI reply sent to Instagram', () =>
      stack.ig.sentMessages().some((m) => m.json.message.text === DM_REPLY && m.json.recipient.id === CUSTOMER),
    { timeoutMs: 15_000 });
    const list = await api(context, stack.baseUrl, 'GET', '/api/v1/conversations');
    conversationId = list.body?.conversations?.[0]?.id;
    await go('/inbox');
    await page.getByRole('navigation', { name: en('inbox', 'listLabel') }).getByRole('link').first().click();
    await page.waitForURL(/\/inbox\/[0-9a-f-]{36}/);
    conversationId ??= page.url().split('/').pop();
    const thread = page.getByRole('log');
    await thread.getByText(DM_TEXT).first().waitFor();
    await thread.getByText(DM_REPLY).first().waitFor();
  });

  await step(t, 'inbox: take over, reply as a human (Instagram receives it), hand back', async () => {
    await go(`/inbox/${conversationId}`);
    const main = page.getByRole('main');
    const actions = main.getByRole('group', { name: en('inbox', 'actions.label') });
    await actions.getByRole('button', { name: en('inbox', 'actions.takeover') }).click();
    // Taken over: the AI is paused and the action turns into "hand back".
    await actions.getByRole('button', { name: en('inbox', 'actions.handback') }).waitFor();
    const box = main.getByRole('textbox', { name: new RegExp(`^${en('inbox', 'reply.replyLabel', { name: '' }).trim()}`) });
    await box.fill(HUMAN_REPLY);
    await main.getByRole('button', { name: en('inbox', 'reply.send') }).click();
    const sent = await until('the human reply at the fake Instagram', () =>
      stack.ig.sentMessages().find((m) => m.json.message.text === HUMAN_REPLY && m.json.recipient.id === CUSTOMER),
    );
    // The customer wrote minutes ago: a normal message, no HUMAN_AGENT tag.
    assert.equal(sent.json.tag, undefined, JSON.stringify(sent.json));
    await page.getByRole('log').getByText(HUMAN_REPLY).first().waitFor();
    await actions.getByRole('button', { name: en('inbox', 'actions.handback') }).click();
    await actions.getByRole('button', { name: en('inbox', 'actions.takeover') }).waitFor();
    const c = await api(context, stack.baseUrl, 'GET', `/api/v1/conversations/${conversationId}`);
    assert.equal(c.body?.conversation?.mode, 'ai');
  });

  await step(t, 'test chat: the agent places an order and the panel shows its reply and the tool call', async () => {
    await ensureCatalog();
    await go('/instructions');
    const main = page.getByRole('main');
    await main.getByRole('textbox', { name: en('instructions', 'chat.message') }).fill(ORDER_MESSAGE);
    await main.getByRole('button', { name: en('instructions', 'chat.send'), exact: true }).click();
    const log = main.getByTestId('test-chat-log');
    await log.getByText(ORDER_CONFIRMED).first().waitFor({ timeout: 20_000 });
    // The tool call is shown with the reply, and it succeeded.
    await log.getByText('create_order').first().waitFor();
    await log.getByText(en('instructions', 'chat.toolOk'), { exact: true }).first().waitFor();
  });

  await step(t, 'orders: the order placed in test chat is listed under "Show test-chat orders", marked as a test', async () => {
    await ensureOrder();
    await go('/orders');
    // Test-chat orders are left out by default (issue 13 §5).
    await page.getByRole('main').getByText(en('orders', 'empty.title')).first().waitFor();
    await page.getByRole('main').getByText(en('orders', 'filter.includeTests'), { exact: true }).click();
    const table = page.getByRole('table', { name: en('orders', 'title') });
    await table.getByText('ليلى حداد').first().waitFor();
    await table.getByText(en('orders', 'test'), { exact: true }).first().waitFor();
    const orders = await api(context, stack.baseUrl, 'GET', '/api/v1/orders?include_tests=true');
    const placed = orders.body?.items?.filter((o) => o.customer_name === 'ليلى حداد') ?? [];
    assert.equal(placed[0]?.is_test, true, JSON.stringify(orders.body));
    // One message, one order (the tool call is not repeated when the model answers after it).
    assert.equal(placed.length, 1, JSON.stringify(orders.body));
    const order = placed[0];
    orderNumber = order.order_number;
  });

  await step(t, 'orders: the CSV export of the list with test-chat orders contains the order', async () => {
    await ensureOrder();
    await go('/orders?include_tests=true');
    const download = page.waitForEvent('download');
    await page.getByRole('main').getByRole('button', { name: en('orders', 'export') }).click();
    const file = await download;
    const text = await readFile(await file.path(), 'utf8');
    assert.match(file.suggestedFilename(), /\.csv$/);
    assert.ok(text.includes('ليلى حداد'), text.slice(0, 500));
    if (orderNumber) assert.ok(text.includes(String(orderNumber)), `order ${orderNumber} in\n${text.slice(0, 500)}`);
  });

  await step(t, 'Arabic: <html dir="rtl" lang="ar"> and the catalog grid mirrored', async () => {
    await go('/catalog');
    await page.getByRole('button', { name: en('common', 'language.switchTo_ar') }).click();
    await until('html dir=rtl lang=ar', async () =>
      (await page.evaluate(() => `${document.documentElement.dir} ${document.documentElement.lang}`)) === 'rtl ar',
    );
    await page.locator('.ag-root-wrapper').first().waitFor();
    await page.locator('.ag-rtl').first().waitFor();
    await page.getByRole('heading', { name: ar('catalog', 'title') }).first().waitFor();
    // Remembered: still Arabic after a reload.
    await page.reload();
    assert.equal(await page.evaluate(() => document.documentElement.dir), 'rtl');
  });

  await step(t, 'sign out: the session is gone', async () => {
    await go('/');
    const before = (await context.cookies(stack.baseUrl)).map((c) => `${c.name}=${c.value}`).join('; ');
    const signOut = new RegExp(`^(${en('common', 'actions.signOut')}|${ar('common', 'actions.signOut')})$`);
    await page.getByRole('button', { name: signOut }).first().click();
    await page.waitForURL(/\/signin/);
    const me = await context.request.get(`${stack.baseUrl}/api/v1/me`);
    assert.equal(me.status(), 401);
    // Gone on the server too: the old cookie, sent again, is refused.
    const replay = await fetch(`${stack.baseUrl}/api/v1/me`, { headers: { cookie: before } });
    assert.equal(replay.status, 401);
  });
});

test("another shop never sees this shop's data", { timeout: 120_000 }, async () => {
  const other = await stack.newContext();
  const p = await other.newPage();
  await signInWithInstagram(stack, p, SHOP_B);
  const pages = [
    ['/catalog', en('catalog', 'empty.title')],
    ['/inbox', en('inbox', 'empty.none')],
    ['/orders', en('orders', 'empty.title')],
  ];
  for (const [path, emptyState] of pages) {
    await p.goto(`${stack.baseUrl}${path}`);
    // The page has finished loading when its empty state shows: this shop has nothing yet.
    await p.getByRole('main').getByText(emptyState).first().waitFor().catch((e) => {
      throw new Error(`${path} of ${SHOP_B.username}: no empty state (${emptyState}): ${e.message.split('\n')[0]}`);
    });
    const text = await p.getByRole('main').innerText();
    for (const secret of ['فستان أحمر سهرة', 'ليلى حداد', DM_TEXT, ORDER_SKU]) {
      assert.ok(!text.includes(secret), `${path} of ${SHOP_B.username} shows ${secret}`);
    }
  }
  const items = await api(other, stack.baseUrl, 'GET', '/api/v1/catalog/items');
  assert.ok(!JSON.stringify(items.body).includes(ORDER_SKU));
});

/** Opens a wizard step from the steps navigation (instagram, catalog, knowledge_base, …). */
async function gotoWizardStep(step) {
  await page.getByRole('navigation', { name: en('onboarding', 'stepsLabel') }).getByTestId(`onboarding-step-${step}`).click();
  await page
    .getByRole('main')
    .getByRole('heading', { name: en('onboarding', `steps.${step}.title`), level: 2, exact: true })
    .waitFor();
}

/** The price cell of the grid row with `sku`. */
function priceCell(sku) {
  return page
    .locator('.ag-row', { has: page.locator('[col-id=sku]', { hasText: sku }) })
    .locator('[col-id=price_jod]')
    .first();
}

/**
 * Later steps need the catalog. When the wizard step failed, the same file is imported
 * through the API so the remaining steps still say something (the wizard step stays failed).
 */
async function ensureCatalog() {
  const items = await api(context, stack.baseUrl, 'GET', '/api/v1/catalog/items?limit=100');
  if (JSON.stringify(items.body).includes(ORDER_SKU)) return;
  const r = await api(context, stack.baseUrl, 'POST', '/api/v1/catalog/import/commit', csv(...CSV_ROWS, GOOD_ROW).toString('utf8'));
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

/** Later steps need the order; when the test-chat screen failed, the same message goes through the API. */
async function ensureOrder() {
  const orders = await api(context, stack.baseUrl, 'GET', '/api/v1/orders?include_tests=true');
  if (orders.body?.items?.some((o) => o.customer_name === 'ليلى حداد')) return;
  await ensureCatalog();
  const r = await api(context, stack.baseUrl, 'POST', '/api/v1/test-chat', { message: ORDER_MESSAGE });
  assert.equal(r.status, 200, JSON.stringify(r.body));
}
