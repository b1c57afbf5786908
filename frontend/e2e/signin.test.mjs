// Sign-in: the local sign-in is offered on a local server, labelled as local, and works;
// "Continue with Instagram" completes against the fake Instagram; a cancelled consent comes
// back to the sign-in page with the reason.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SHOP_B, signInWithInstagram, startStack } from './support/stack.mjs';

let stack;
before(async () => {
  stack = await startStack('signin');
});
after(async () => {
  await stack?.stop();
});

test('local sign-in is offered, labelled as local, and signs in', async () => {
  const context = await stack.newContext();
  const page = await context.newPage();
  await page.goto(`${stack.baseUrl}/`);
  // Signed out: the app sends us to the sign-in page.
  await page.waitForURL(/\/signin/);
  const form = page.getByRole('form', { name: 'Local sign-in' });
  await form.getByText('Local server only').waitFor();
  await form.getByLabel("Shop's Instagram handle").fill('local.shop');
  await form.getByRole('button', { name: 'Sign in locally' }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/signin'));
  const me = await context.request.get(`${stack.baseUrl}/api/v1/me`);
  assert.equal(me.status(), 200);
  const body = await me.json();
  assert.match(JSON.stringify(body), /local\.shop/);
});

test('Continue with Instagram signs a new shop in and opens onboarding', async () => {
  const context = await stack.newContext();
  const page = await context.newPage();
  await signInWithInstagram(stack, page, SHOP_B);
  assert.equal(new URL(page.url()).pathname, '/onboarding');
  const me = await context.request.get(`${stack.baseUrl}/api/v1/me`);
  assert.equal(me.status(), 200);
  assert.match(JSON.stringify(await me.json()), new RegExp(SHOP_B.username.replace('.', '\\.')));
  // The real client subscribed the account to messages.
  assert.ok(stack.ig.requests.some((r) => r.method === 'POST' && r.path.endsWith(`/${SHOP_B.id}/subscribed_apps`)));
});

test('a cancelled Instagram consent returns to sign-in with the reason', async () => {
  const context = await stack.newContext();
  const page = await context.newPage();
  await page.goto(`${stack.baseUrl}/signin`);
  await page.getByRole('link', { name: 'Continue with Instagram' }).click();
  await page.getByRole('link', { name: 'Cancel' }).click();
  await page.waitForURL(/\/signin\?error=/);
  await page.getByRole('alert').filter({ hasText: 'Instagram sign-in did not finish' }).waitFor();
  const me = await context.request.get(`${stack.baseUrl}/api/v1/me`);
  assert.equal(me.status(), 401);
});
