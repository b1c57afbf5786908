// Every main page, in English and in Arabic, on a shop with real data (a catalog, a
// conversation answered by the AI, an order, a knowledge document): axe finds no serious or
// critical accessibility violation (the rest are printed), and each page is photographed at
// desktop (1280) and phone (390) width into .data/e2e-screenshots/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import AxeBuilder from '@axe-core/playwright';
import { ORDER_TRIGGER } from './support/fake-model.mjs';
import { api, tr } from './support/app.mjs';
import { until } from './support/poll.mjs';
import { ORDER_SKU, SCREENSHOTS, SHOP_A, dmEvent, signInWithInstagram, startStack } from './support/stack.mjs';

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

let stack;
let context;
let page;
let conversationId;

before(async () => {
  stack = await startStack('pages');
  mkdirSync(SCREENSHOTS, { recursive: true });
  console.log(`# screenshots: ${SCREENSHOTS}`);
  context = await stack.newContext({ viewport: DESKTOP });
  page = await context.newPage();
  await signInWithInstagram(stack, page, SHOP_A);
  // Real data through the API, so the pages are not all empty states.
  const csv = [
    'sku,name,price,stock,description',
    `${ORDER_SKU},فستان أحمر سهرة,25.000,10,فستان سهرة طويل`,
    'ABY-BLK-02,عباية سوداء مطرزة,40.500,5,عباية يومية',
    'SCF-SLK-03,Silk scarf,12.750,3,Natural silk',
  ].join('\n');
  const imported = await api(context, stack.baseUrl, 'POST', '/api/v1/catalog/import/commit', csv);
  assert.equal(imported.status, 200, JSON.stringify(imported.body));
  const doc = await api(context, stack.baseUrl, 'POST', '/api/v1/knowledge/documents', {
    multipart: { file: { name: 'policies.txt', mimeType: 'text/plain', buffer: Buffer.from('الإرجاع خلال 7 أيام.\n') } },
  });
  assert.ok(doc.status < 300, JSON.stringify(doc.body));
  const chat = await api(context, stack.baseUrl, 'POST', '/api/v1/test-chat', {
    message: `${ORDER_TRIGGER} فستانين، ليلى حداد 0791234567 عمّان`,
    reset: true,
  });
  assert.equal(chat.status, 200, JSON.stringify(chat.body));
  assert.equal(await stack.postWebhook(dmEvent({ account: SHOP_A.id, customer: '1234567890123456', text: 'مرحبا، كم سعر العباية؟' })), 200);
  await until('the AI reply to the DM', () => stack.ig.sentMessages().length > 0, { timeoutMs: 15_000 });
  const list = await api(context, stack.baseUrl, 'GET', '/api/v1/conversations');
  conversationId = list.body?.conversations?.[0]?.id;
});
after(async () => {
  await stack?.stop();
});

// [name, path, the side navigation's entry]; pages are opened from the navigation as a
// merchant does (no reload between them), by address when there is no navigation.
const PAGES = [
  ['overview', '/', 'overview'],
  ['inbox-thread', '/inbox', 'inbox'],
  ['orders', '/orders', 'orders'],
  ['returns', '/returns', 'returns'],
  ['catalog', '/catalog', 'catalog'],
  ['categories', '/categories', 'categories'],
  ['knowledge', '/knowledge', 'knowledge'],
  ['profile', '/profile', 'profile'],
  ['instructions', '/instructions', 'instructions'],
  ['settings', '/settings', 'settings'],
  ['onboarding', '/onboarding', 'onboarding'],
];

async function open(p, name, path, navKey) {
  const lang = (await p.evaluate(() => document.documentElement.lang)) === 'ar' ? 'ar' : 'en';
  const nav = p.getByRole('navigation', { name: tr(lang, 'common', 'nav.label'), exact: true });
  if (await nav.isVisible().catch(() => false)) {
    await nav.getByRole('link', { name: tr(lang, 'common', `nav.${navKey}`), exact: true }).click();
    await p.waitForURL((u) => u.pathname === path);
  } else {
    await p.goto(`${stack.baseUrl}${path}`);
  }
  if (name === 'inbox-thread' && conversationId) {
    await p.locator(`a[href^="/inbox/${conversationId}"]`).first().click();
    await p.waitForURL((u) => u.pathname === `/inbox/${conversationId}`);
  }
}

/** Waits until the page has drawn its content: a heading, no skeleton, the network quiet. */
async function settled(p) {
  await p.locator('h1').first().waitFor();
  await p.waitForLoadState('networkidle', { timeout: 3_000 }).catch(() => {});
  await until('no loading skeleton', async () => (await p.locator('.chakra-skeleton, [data-loading]').count()) === 0, {
    timeoutMs: 10_000,
  }).catch(() => {});
}

/** axe on the page: returns the serious/critical violations, prints the others. */
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
  await p.screenshot({ path: join(SCREENSHOTS, `${name}-desktop.png`), fullPage: true });
  await p.setViewportSize(PHONE);
  await p.screenshot({ path: join(SCREENSHOTS, `${name}-phone.png`), fullPage: true });
  await p.setViewportSize(DESKTOP);
}

for (const lang of ['en', 'ar']) {
  test(`${lang}: every main page passes axe (no serious or critical) and is photographed`, { timeout: 10 * 60_000 }, async (t) => {
    await t.test(`${lang} sign-in`, async () => {
      const signedOut = await stack.newContext({ viewport: DESKTOP });
      const p = await signedOut.newPage();
      await p.goto(`${stack.baseUrl}/signin`);
      await setLanguage(p, lang);
      try {
        await settled(p);
      } finally {
        await shoot(p, `${lang}-signin`);
      }
      const bad = await audit(p, `${lang} sign-in`);
      await signedOut.close();
      assert.ok(bad.length === 0, `${lang} sign-in:\n  ${bad.join('\n  ')}`);
    });
    for (const [name, path, navKey] of PAGES) {
      await t.test(`${lang} ${name}`, async () => {
        await open(page, name, path, navKey);
        try {
          await setLanguage(page, lang);
          await settled(page);
        } finally {
          await shoot(page, `${lang}-${name}`);
        }
        const bad = await audit(page, `${lang} ${name}`);
        assert.ok(bad.length === 0, `${lang} ${name}:\n  ${bad.join('\n  ')}`);
      });
    }
  });
}

/** Switches with the app's own language button when the page is not in `lang` yet. */
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
