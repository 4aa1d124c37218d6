// The studio driven in headless Chromium (Debian's, through playwright-core)
// as a user drives it, one step after another in one browser: each test is
// one behaviour and leaves the page as the next step expects it. Run by
// run.sh, which starts the gateway and sets the environment below.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const gateway = process.env.MSGFLUX_GATEWAY_URL;
const key = process.env.MSGFLUX_STUDIO_KEY;
const photo = process.env.STUDIO_PHOTO; // 600x400
const wrongMask = process.env.STUDIO_WRONG_MASK; // 451x300
const artifacts = process.env.STUDIO_ARTIFACTS;
const WIDTH = 600;
const HEIGHT = 400;

let context;
let page;
let profile;
let step = 0;
const policyViolations = [];
// A pixel inside the mask that the edit changed, found by the edit step.
let changed;

async function screenshot(name) {
  step += 1;
  await page.screenshot({ path: join(artifacts, `${String(step).padStart(2, '0')}-${name}.png`), fullPage: true });
}

// Image coordinates to screen coordinates on the mask canvas.
async function at(x, y) {
  const box = await page.locator('#mask-canvas').boundingBox();
  return [box.x + (x * box.width) / WIDTH, box.y + (y * box.height) / HEIGHT];
}

async function drag(from, to, steps = 12) {
  await page.mouse.move(...(await at(...from)));
  await page.mouse.down();
  await page.mouse.move(...(await at(...to)), { steps });
  await page.mouse.up();
}

async function setRange(selector, value) {
  await page.$eval(selector, (el, v) => {
    el.value = v;
    el.dispatchEvent(new Event('input', { bubbles: true }));
  }, String(value));
}

// Runs `body` in the page with `pixels(src)` at hand. A string expression,
// not a function with eval inside: the page's CSP forbids eval, as it should.
function inPage(body) {
  return page.evaluate(`(async () => { const pixels = ${pixelsScript}; ${body} })()`);
}

// The mask the page would send, once its download link is up to date: its
// size, then the alpha at each point.
async function maskSample(points) {
  await page.locator('#mask-download[data-fresh=true]').waitFor({ state: 'attached' });
  return inPage(`
    const m = await pixels(document.getElementById('mask-download').href);
    return [m.width, m.height, ...${JSON.stringify(points)}.map(([x, y]) => m.data[(y * m.width + x) * 4 + 3])];`);
}

// Pixels of an <img> or a link's blob URL, read back on a canvas in the page.
const pixelsScript = `async (src) => {
  const img = new Image();
  img.src = src;
  await img.decode();
  const c = document.createElement('canvas');
  c.width = img.naturalWidth;
  c.height = img.naturalHeight;
  const ctx = c.getContext('2d');
  ctx.drawImage(img, 0, 0);
  return ctx.getImageData(0, 0, c.width, c.height);
}`;

before(async () => {
  profile = mkdtempSync(join(tmpdir(), 'msgflux-studio-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = context.pages()[0] || (await context.newPage());
  page.on('pageerror', (err) => console.error('page error:', err));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    console.error('console:', msg.text());
    if (/Content.Security.Policy/i.test(msg.text())) policyViolations.push(msg.text());
  });
});

after(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

describe('the studio', () => {
  test('asks for the key when the gateway requires one, then lists the models', async () => {
    await page.goto(gateway);
    await page.locator('#key-error').filter({ hasText: /key/ }).waitFor();
    assert.equal(await page.locator('#key').getAttribute('aria-invalid'), 'true');
    await screenshot('key-prompt');
    await page.fill('#key', key);
    await page.click('#key-form button[type=submit]');
    await page.locator('#model option[value="local/patchmatch"]').waitFor({ state: 'attached' });
    assert.equal(await page.locator('#key-error').textContent(), '');
    assert.match(await page.locator('#model-info').textContent(), /n 1–10/);
  });

  test('opens an image from the file picker at its own pixel size', async () => {
    await page.selectOption('#model', 'local/patchmatch');
    await page.setInputFiles('#image-file', photo);
    await page.locator('#stage.loaded').waitFor();
    const size = await page.evaluate(() => [document.getElementById('image-canvas').width, document.getElementById('image-canvas').height]);
    assert.deepEqual(size, [WIDTH, HEIGHT]);
  });

  test('opens an image dropped on the canvas', async () => {
    const bytes = readFileSync(photo).toString('base64');
    const transfer = await page.evaluateHandle((b64) => {
      const bin = atob(b64);
      const data = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i += 1) data[i] = bin.charCodeAt(i);
      const dt = new DataTransfer();
      dt.items.add(new File([data], 'dropped.png', { type: 'image/png' }));
      return dt;
    }, bytes);
    await page.dispatchEvent('#stage', 'drop', { dataTransfer: transfer });
    await page.locator('#status').filter({ hasText: 'Opened dropped.png' }).waitFor();
  });

  test('opens an image by URL, fetched through the gateway', async () => {
    const server = createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'image/png' });
      res.end(readFileSync(photo));
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${server.address().port}/photo.png`;
      await page.fill('#url', url);
      await page.click('#open-url');
      await page.locator('#status').filter({ hasText: `Opened ${url}` }).waitFor();
      const size = await page.evaluate(() => [document.getElementById('image-canvas').width, document.getElementById('image-canvas').height]);
      assert.deepEqual(size, [WIDTH, HEIGHT]);
    } finally {
      server.close();
    }
  });

  test('a URL the gateway may not fetch is refused beside the URL field', async () => {
    await page.fill('#url', 'http://10.0.0.7/photo.png');
    await page.press('#url', 'Enter');
    await page.locator('#url-error').filter({ hasText: 'not a public address' }).waitFor();
    assert.equal(await page.getAttribute('#url', 'aria-invalid'), 'true');
    await screenshot('url-refused');
    assert.deepEqual(
      await page.evaluate(() => [document.getElementById('image-canvas').width, document.getElementById('image-canvas').height]),
      [WIDTH, HEIGHT],
      'the open image stays',
    );
    // Leave the field, so the next steps' keyboard shortcuts reach the page.
    await page.locator('#url').blur();
  });

  test('paints a mask with the brush and a rectangle, with keyboard shortcuts', async () => {
    await setRange('#brush-size', 30);
    await drag([80, 80], [200, 120]);
    await page.locator('body').press('r');
    assert.equal(await page.locator('button[data-tool=rect]').getAttribute('aria-pressed'), 'true');
    await drag([300, 200], [420, 300]);
    const [width, height, rect, brush, elsewhere] = await maskSample([[360, 250], [140, 100], [550, 50]]);
    assert.deepEqual([width, height], [WIDTH, HEIGHT], 'the mask has the image size, not the display size');
    assert.equal(rect, 0, 'inside the rectangle is transparent (edit)');
    assert.equal(brush, 0, 'under the brush stroke is transparent (edit)');
    assert.equal(elsewhere, 255, 'elsewhere is opaque (keep)');
    await screenshot('mask-painted');
  });

  test('undo removes the last shape and redo brings it back', async () => {
    await page.locator('body').press('Control+z');
    assert.equal((await maskSample([[360, 250]]))[2], 255);
    await page.locator('body').press('Control+Shift+z');
    assert.equal((await maskSample([[360, 250]]))[2], 0);
  });

  test('runs an edit whose result differs inside the mask and is identical outside it', async () => {
    await page.fill('#prompt', 'remove the marks');
    await page.fill('#n', '2');
    await page.click('#run');
    await page.locator('#results img').nth(1).waitFor({ timeout: 120_000 });
    const check = await inPage(`
      const result = await pixels(document.querySelector('#results img').src);
      const mask = await pixels(document.getElementById('mask-download').href);
      const input = document.getElementById('image-canvas').getContext('2d').getImageData(0, 0, 600, 400);
      let inside = 0;
      let outside = 0;
      let first = null;
      for (let i = 0; i < input.data.length; i += 4) {
        const changed = [0, 1, 2].some((c) => input.data[i + c] !== result.data[i + c]);
        if (mask.data[i + 3] === 255 && changed) outside += 1;
        if (mask.data[i + 3] === 0 && changed) {
          inside += 1;
          first = first || [(i / 4) % 600, Math.floor(i / 4 / 600)];
        }
      }
      return { inside, outside, first, size: [result.width, result.height] };`);
    changed = check.first;
    assert.deepEqual(check.size, [WIDTH, HEIGHT]);
    assert.ok(check.inside > 1000, `only ${check.inside} pixels changed inside the mask`);
    assert.equal(check.outside, 0, 'pixels changed outside the mask');
    assert.match(await page.locator('#diff-stats').textContent(), / 0 outside it/);
    assert.match(await page.locator('#result-meta').textContent(), /local\/patchmatch: [\d.]+ s/);
    await page.locator('#history li').first().waitFor();
    await screenshot('results-side-by-side');
  });

  test('the before/after slider shows the original left of the line and the result right of it', async () => {
    await page.check('input[name=compare-mode][value=slider]');
    const pixelOf = (canvas) => page.evaluate(([id, [x, y]]) => Array.from(document.getElementById(id).getContext('2d').getImageData(x, y, 1, 1).data), [canvas, changed]);
    const original = await pixelOf('image-canvas');
    await setRange('#slider', 100);
    assert.deepEqual(await pixelOf('compare-canvas'), original, 'slider at the right: the original');
    await setRange('#slider', 0);
    assert.notDeepEqual(await pixelOf('compare-canvas'), original, 'slider at the left: the result');
    await setRange('#slider', 55);
    await screenshot('results-slider');
  });

  test('the difference view marks changes inside the mask and none outside', async () => {
    await page.locator('body').press('3');
    assert.equal(await page.locator('#compare-canvas').getAttribute('data-mode'), 'diff');
    const counts = await page.evaluate(() => {
      const c = document.getElementById('compare-canvas');
      const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let green = 0;
      let red = 0;
      for (let i = 0; i < px.length; i += 4) {
        if (px[i] === 0 && px[i + 1] === 200 && px[i + 2] === 80) green += 1;
        if (px[i] === 255 && px[i + 1] === 0 && px[i + 2] === 0) red += 1;
      }
      return { green, red };
    });
    assert.ok(counts.green > 1000, `${counts.green} changed pixels marked inside the mask`);
    assert.equal(counts.red, 0, 'changed pixels marked outside the mask');
    await screenshot('results-difference');
  });

  test('continues from a result: it becomes the next input, with an empty mask', async () => {
    await page.locator('#results button').nth(1).click();
    await page.click('#continue');
    const same = await inPage(`
      const result = await pixels(document.querySelectorAll('#results img')[1].src);
      const input = document.getElementById('image-canvas').getContext('2d').getImageData(0, 0, 600, 400);
      return input.data.every((v, i) => v === result.data[i]);`);
    assert.ok(same, 'the input is now the second result');
    await page.locator('#mask-download[hidden][data-fresh=true]').waitFor({ state: 'attached' });
    await screenshot('continued');
  });

  test('a mask file of another size is refused beside the mask field', async () => {
    await page.setInputFiles('#mask-file', wrongMask);
    await page.locator('#mask-error').filter({ hasText: 'mask is 451x300 but image is 600x400' }).waitFor();
    assert.equal(await page.locator('#mask-file').getAttribute('aria-invalid'), 'true');
    await screenshot('mask-size-error');
  });

  test("n above the model's limit is shown beside n, from the gateway's answer", async () => {
    await page.selectOption('#model', 'local/telea');
    await drag([250, 150], [350, 250]);
    await page.fill('#n', '3');
    await page.fill('#opt-radius', '99');
    await page.click('#run');
    await page.locator('#n-error').filter({ hasText: 'must be between 1 and 1 for this model, got 3' }).waitFor();
    assert.match(await page.locator('#opt-radius-error').textContent(), /must be between 1 and 32, got 99/);
    assert.equal(await page.locator('#n').getAttribute('aria-invalid'), 'true');
    const described = await page.locator('#n').getAttribute('aria-describedby');
    assert.ok(described.split(' ').includes('n-error'));
    await screenshot('n-error');
  });

  test('fits a narrow screen without sideways scrolling', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(100);
    const [width, wide] = await page.evaluate(() => [
      document.documentElement.scrollWidth,
      [...document.querySelectorAll('body *')].filter((el) => el.getBoundingClientRect().right > 391).map((el) => el.id || el.tagName),
    ]);
    assert.ok(width <= 390, `the page is ${width} px wide: ${wide.join(', ')}`);
    await screenshot('narrow');
  });

  test('breaks no rule of its Content-Security-Policy', () => {
    assert.deepEqual(policyViolations, []);
  });

  test('every control has a label', async () => {
    const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
      .filter((el) => el.type !== 'hidden' && !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
      .map((el) => el.id || el.outerHTML));
    assert.deepEqual(unlabelled, []);
  });
});
