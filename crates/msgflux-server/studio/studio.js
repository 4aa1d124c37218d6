// msgflux studio: paint a mask, run an edit through this gateway's public
// API (GET /v1/models, POST /v1/images/edits), compare the results.
// Plain JavaScript, no build step; served from the binary with a strict CSP
// (no inline script), so every handler is attached here.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);

  // A canvas of this size, with `source` drawn on it when given.
  function canvasOf(width, height, source) {
    const c = document.createElement('canvas');
    c.width = width;
    c.height = height;
    if (source) c.getContext('2d').drawImage(source, 0, 0, width, height);
    return c;
  }

  // ---- state -------------------------------------------------------------

  const KEY_STORE = 'msgflux-studio-key';
  const HISTORY_LIMIT = 20;
  const studio = {
    key: sessionStorage.getItem(KEY_STORE) || localStorage.getItem(KEY_STORE) || '',
    models: [],
    model: null, // the selected entry of GET /v1/models
    image: null, // { width, height } of the input on #image-canvas
    tool: 'brush',
    undo: [],
    redo: [],
    painted: false,
    edit: null, // the last run: { original, keep, results, selected, ms, cost }
    compareMode: 'side',
    running: null, // AbortController of the edit in flight
  };

  const imageCanvas = $('image-canvas');
  const overlay = $('mask-canvas');
  // The mask as painted, at the image's own size: opaque = edit here.
  const paint = document.createElement('canvas');

  // ---- errors beside their fields ----------------------------------------

  // The element that shows the errors of an API parameter (`mask`, `image[0]`, `option radius`).
  function errorSlot(param) {
    if (!param) return $('form-error');
    if (param.startsWith('option ')) {
      return $(`opt-${param.slice(7)}-error`) || $('form-error');
    }
    const base = param.replace(/\[\d*\]$/, '');
    const slot = $(`${base}-error`);
    return slot && slot.classList.contains('field-error') ? slot : $('form-error');
  }

  function controlOf(slot) {
    return document.querySelector(`[aria-describedby~="${slot.id}"]`);
  }

  function showError(param, message) {
    const slot = errorSlot(param);
    const general = slot === $('form-error') && param ? `${param}: ` : '';
    slot.textContent = slot.textContent ? `${slot.textContent} ${general}${message}` : `${general}${message}`;
    const control = controlOf(slot);
    if (control) control.setAttribute('aria-invalid', 'true');
  }

  function clearErrors() {
    for (const slot of document.querySelectorAll('.field-error')) {
      if (slot.id === 'key-error') continue;
      slot.textContent = '';
      const control = controlOf(slot);
      if (control) control.removeAttribute('aria-invalid');
    }
  }

  // An API error body: every violation beside its field, else the message beside `param`.
  function showApiError(status, body) {
    const error = (body && body.error) || {};
    if (status === 401) {
      askForKey(error.message || 'this gateway needs a key');
      return;
    }
    const violations = Array.isArray(error.violations) && error.violations.length
      ? error.violations
      : [{ param: error.param, message: error.message || `the gateway answered ${status}` }];
    for (const v of violations) showError(v.param, v.message);
  }

  function setStatus(text) {
    $('status').textContent = text;
  }

  // Nothing may leave the page blank: unexpected failures are shown too.
  window.addEventListener('error', (e) => showError(null, `unexpected error: ${e.message}`));
  window.addEventListener('unhandledrejection', (e) => showError(null, `unexpected error: ${e.reason && e.reason.message || e.reason}`));

  // ---- the key -----------------------------------------------------------

  function authHeaders() {
    return studio.key ? { Authorization: `Bearer ${studio.key}` } : {};
  }

  function askForKey(message) {
    const form = $('key-form');
    form.classList.add('needed');
    $('key-error').textContent = message;
    $('key').setAttribute('aria-invalid', 'true');
    $('key').focus();
  }

  $('key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    studio.key = $('key').value.trim();
    sessionStorage.removeItem(KEY_STORE);
    localStorage.removeItem(KEY_STORE);
    if (studio.key) {
      ($('remember-key').checked ? localStorage : sessionStorage).setItem(KEY_STORE, studio.key);
    }
    $('key-error').textContent = '';
    $('key').removeAttribute('aria-invalid');
    $('key-form').classList.remove('needed');
    loadModels();
  });

  // ---- models ------------------------------------------------------------

  async function loadModels() {
    let response;
    try {
      response = await fetch('/v1/models', { headers: authHeaders() });
    } catch (err) {
      showError('model', `the gateway cannot be reached: ${err.message}`);
      return;
    }
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      if (response.status === 401) askForKey((body && body.error && body.error.message) || 'this gateway needs a key');
      else showApiError(response.status, body);
      return;
    }
    $('model-error').textContent = '';
    studio.models = (body.data || []).filter((m) => m.capabilities);
    const select = $('model');
    const previous = select.value || localStorage.getItem('msgflux-studio-model');
    select.replaceChildren(...studio.models.map((m) => new Option(m.id, m.id)));
    if (studio.models.some((m) => m.id === previous)) select.value = previous;
    if (!studio.models.length) showError('model', 'this gateway serves no model that can be described');
    selectModel();
  }

  function describeSizes(sizes) {
    return sizes.rule === 'input_size' ? 'same as the input' : sizes.text;
  }

  function selectModel() {
    const model = studio.models.find((m) => m.id === $('model').value) || null;
    studio.model = model;
    if (!model) return;
    localStorage.setItem('msgflux-studio-model', model.id);
    const caps = model.capabilities;
    const mask = { required: 'needs a mask', optional: 'takes a mask', unsupported: 'takes no mask (the original is kept outside it)' }[caps.mask];
    const parts = [mask, `n ${caps.n.min}–${caps.n.max}`, `sizes: ${describeSizes(caps.sizes)}`];
    if (caps.streaming) parts.push('streams partial images');
    if (!caps.honours_prompt) parts.push('ignores the prompt (content-aware fill)');
    $('model-info').textContent = `${model.id} ${parts.join(' · ')}`;
    $('prompt-help').textContent = caps.max_prompt_chars ? `at most ${caps.max_prompt_chars} characters` : '';
    $('n').max = String(caps.n.max);
    $('n').min = String(caps.n.min);
    $('n-help').textContent = `${caps.n.min} to ${caps.n.max} for this model`;
    const size = $('size');
    const list = $('size-list');
    list.replaceChildren(...(caps.sizes.sizes || []).concat(caps.auto_size ? ['auto'] : []).map((s) => new Option(s, s)));
    size.disabled = caps.sizes.rule === 'input_size';
    if (size.disabled) size.value = '';
    $('size-help').textContent = describeSizes(caps.sizes);
    $('seed-field').hidden = !caps.seed;
    $('keep-unmasked').checked = caps.keep_unmasked_default;
    buildOptions(caps.options);
  }

  function buildOptions(options) {
    const box = $('options-fields');
    box.replaceChildren();
    $('options').hidden = options.length === 0;
    for (const option of options) {
      const id = `opt-${option.name}`;
      const field = document.createElement('div');
      field.className = 'field';
      const label = document.createElement('label');
      label.htmlFor = id;
      label.textContent = option.name;
      let control;
      if (option.type === 'choice' || option.type === 'bool') {
        control = document.createElement('select');
        const choices = option.type === 'bool' ? ['true', 'false'] : option.choices;
        control.append(new Option('default', ''), ...choices.map((c) => new Option(c, c)));
      } else {
        control = document.createElement('input');
        control.type = option.type === 'text' ? 'text' : 'number';
        if (option.type !== 'text') {
          control.min = String(option.min);
          control.max = String(option.max);
          control.step = option.type === 'integer' ? '1' : 'any';
        }
        control.placeholder = 'default';
      }
      control.id = id;
      control.dataset.option = option.name;
      control.setAttribute('aria-describedby', `${id}-help ${id}-error`);
      const help = document.createElement('p');
      help.id = `${id}-help`;
      help.className = 'hint';
      const range = option.type === 'integer' || option.type === 'number' ? ` (${option.min} to ${option.max})` : '';
      help.textContent = `${option.help}${range}`;
      const error = document.createElement('p');
      error.id = `${id}-error`;
      error.className = 'field-error';
      error.setAttribute('role', 'alert');
      field.append(label, control, help, error);
      box.append(field);
    }
  }

  $('model').addEventListener('change', selectModel);

  // ---- opening an image --------------------------------------------------

  async function openImage(blob, source) {
    clearErrors();
    let bitmap;
    try {
      bitmap = await createImageBitmap(blob);
    } catch {
      showError('image', `${source} is not an image this browser can read`);
      return;
    }
    setInput(bitmap);
    setStatus(`Opened ${source}: ${bitmap.width}x${bitmap.height}.`);
  }

  // Makes a picture the input: drawn at its own pixel size, with an empty mask.
  function setInput(bitmap) {
    const { width, height } = bitmap;
    for (const c of [imageCanvas, overlay, paint]) {
      c.width = width;
      c.height = height;
    }
    imageCanvas.getContext('2d').drawImage(bitmap, 0, 0);
    studio.image = { width, height };
    studio.undo = [];
    studio.redo = [];
    studio.painted = false;
    $('stage').classList.add('loaded');
    $('stage-empty').hidden = true;
    render();
    updateUndoButtons();
  }

  // The page may only load what it made itself (its CSP), so a URL is
  // fetched by the gateway, under the same rules as an image_url input.
  async function openUrl() {
    clearErrors();
    const url = $('url').value.trim();
    if (!/^https?:\/\//i.test(url)) {
      showError('url', 'must be an http(s) URL');
      return;
    }
    setStatus(`Fetching ${url} through the gateway...`);
    let response;
    try {
      response = await fetch('/v1/inputs/fetch', {
        method: 'POST',
        headers: { ...authHeaders(), 'Content-Type': 'application/json' },
        body: JSON.stringify({ url }),
      });
    } catch (err) {
      showError('url', `the gateway cannot be reached: ${err.message}`);
      return;
    }
    if (!response.ok) {
      setStatus('');
      showApiError(response.status, await response.json().catch(() => null));
      return;
    }
    openImage(await response.blob(), url);
  }

  $('open-url').addEventListener('click', openUrl);
  $('url').addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      openUrl();
    }
  });

  $('image-file').addEventListener('change', (e) => {
    const file = e.target.files[0];
    if (file) openImage(file, file.name);
  });

  const stage = $('stage');
  stage.addEventListener('dragover', (e) => {
    e.preventDefault();
    stage.classList.add('dropping');
  });
  stage.addEventListener('dragleave', () => stage.classList.remove('dropping'));
  stage.addEventListener('drop', (e) => {
    e.preventDefault();
    stage.classList.remove('dropping');
    const file = [...e.dataTransfer.files].find((f) => f.type.startsWith('image/'));
    if (file) openImage(file, file.name);
    else showError('image', 'the dropped item is not an image file');
  });
  document.addEventListener('paste', (e) => {
    const item = [...(e.clipboardData ? e.clipboardData.items : [])].find((i) => i.type.startsWith('image/'));
    if (!item) return;
    e.preventDefault();
    openImage(item.getAsFile(), 'the pasted image');
  });

  // ---- painting the mask -------------------------------------------------

  const paintCtx = () => paint.getContext('2d');

  function featherPx() {
    return Number($('feather').value);
  }

  // The overlay: the painted area, feathered as it will be sent, tinted.
  function render() {
    const ctx = overlay.getContext('2d');
    ctx.save();
    ctx.clearRect(0, 0, overlay.width, overlay.height);
    if (featherPx() > 0) ctx.filter = `blur(${featherPx()}px)`;
    ctx.drawImage(paint, 0, 0);
    ctx.filter = 'none';
    ctx.globalCompositeOperation = 'source-in';
    ctx.fillStyle = '#ff2266';
    ctx.fillRect(0, 0, overlay.width, overlay.height);
    ctx.restore();
    overlay.style.opacity = String(Number($('overlay-opacity').value) / 100);
    refreshMaskDownload();
  }

  // Undo keeps copies of the mask; big images keep fewer (about 200 MB at most).
  function snapshot() {
    if (!studio.image) return;
    const copy = canvasOf(paint.width, paint.height, paint);
    studio.undo.push(copy);
    const limit = Math.max(3, Math.min(30, Math.floor(2e8 / (paint.width * paint.height * 4))));
    while (studio.undo.length > limit) studio.undo.shift();
    studio.redo = [];
    updateUndoButtons();
  }

  function restore(from, to) {
    if (!from.length) return;
    const current = canvasOf(paint.width, paint.height, paint);
    to.push(current);
    const previous = from.pop();
    const ctx = paintCtx();
    ctx.clearRect(0, 0, paint.width, paint.height);
    ctx.drawImage(previous, 0, 0);
    updatePainted();
    render();
    updateUndoButtons();
  }

  // Whether any pixel is marked for editing (an empty mask is not sent).
  function updatePainted() {
    const px = paintCtx().getImageData(0, 0, paint.width, paint.height).data;
    let any = false;
    for (let i = 3; i < px.length && !any; i += 4) any = px[i] > 0;
    studio.painted = any;
  }

  function updateUndoButtons() {
    $('undo').disabled = studio.undo.length === 0;
    $('redo').disabled = studio.redo.length === 0;
  }

  function imagePoint(e) {
    const rect = overlay.getBoundingClientRect();
    return {
      x: ((e.clientX - rect.left) * overlay.width) / rect.width,
      y: ((e.clientY - rect.top) * overlay.height) / rect.height,
    };
  }

  // Brush size in image pixels, so a stroke covers the same part of the picture at any zoom.
  function brushPx() {
    return Number($('brush-size').value);
  }

  let stroke = null;

  overlay.addEventListener('pointerdown', (e) => {
    if (!studio.image || e.button !== 0) return;
    e.preventDefault();
    overlay.setPointerCapture(e.pointerId);
    snapshot();
    const start = imagePoint(e);
    stroke = { start, last: start, base: studio.undo[studio.undo.length - 1], erase: e.altKey };
    if (studio.tool === 'brush' || studio.tool === 'eraser') drawSegment(start, start);
  });

  overlay.addEventListener('pointermove', (e) => {
    if (!stroke) return;
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
    for (const ev of events.length ? events : [e]) {
      const point = imagePoint(ev);
      if (studio.tool === 'brush' || studio.tool === 'eraser') {
        drawSegment(stroke.last, point);
      } else {
        drawShape(stroke, point);
      }
      stroke.last = point;
    }
    render();
  });

  function endStroke(e) {
    if (!stroke) return;
    if (studio.tool === 'rect' || studio.tool === 'ellipse') drawShape(stroke, imagePoint(e));
    stroke = null;
    studio.painted = true;
    render();
  }
  overlay.addEventListener('pointerup', endStroke);
  overlay.addEventListener('pointercancel', endStroke);

  function drawSegment(from, to) {
    const ctx = paintCtx();
    ctx.save();
    ctx.globalCompositeOperation = studio.tool === 'eraser' ? 'destination-out' : 'source-over';
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = brushPx();
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(from.x, from.y);
    ctx.lineTo(to.x + 0.01, to.y);
    ctx.stroke();
    ctx.restore();
  }

  // Rectangles and ellipses are drawn on the mask as it was when the drag began.
  function drawShape(s, to) {
    const ctx = paintCtx();
    ctx.save();
    ctx.clearRect(0, 0, paint.width, paint.height);
    ctx.drawImage(s.base, 0, 0);
    ctx.globalCompositeOperation = s.erase ? 'destination-out' : 'source-over';
    ctx.fillStyle = '#fff';
    const x = Math.min(s.start.x, to.x);
    const y = Math.min(s.start.y, to.y);
    const w = Math.abs(to.x - s.start.x);
    const h = Math.abs(to.y - s.start.y);
    ctx.beginPath();
    if (studio.tool === 'rect') ctx.rect(x, y, w, h);
    else ctx.ellipse(x + w / 2, y + h / 2, w / 2, h / 2, 0, 0, Math.PI * 2);
    ctx.fill();
    ctx.restore();
  }

  function invertMask() {
    if (!studio.image) return;
    snapshot();
    const ctx = paintCtx();
    const data = ctx.getImageData(0, 0, paint.width, paint.height);
    const px = data.data;
    for (let i = 0; i < px.length; i += 4) {
      px[i] = px[i + 1] = px[i + 2] = 255;
      px[i + 3] = 255 - px[i + 3];
    }
    ctx.putImageData(data, 0, 0);
    updatePainted();
    render();
  }

  function clearMask() {
    if (!studio.image) return;
    snapshot();
    paintCtx().clearRect(0, 0, paint.width, paint.height);
    studio.painted = false;
    render();
  }

  function setTool(tool) {
    studio.tool = tool;
    for (const button of document.querySelectorAll('.tool')) {
      button.setAttribute('aria-pressed', String(button.dataset.tool === tool));
    }
    overlay.dataset.tool = tool;
  }

  for (const button of document.querySelectorAll('.tool')) {
    button.addEventListener('click', () => setTool(button.dataset.tool));
  }
  $('invert').addEventListener('click', invertMask);
  $('clear').addEventListener('click', clearMask);
  $('undo').addEventListener('click', () => restore(studio.undo, studio.redo));
  $('redo').addEventListener('click', () => restore(studio.redo, studio.undo));
  $('brush-size').addEventListener('input', () => {
    $('brush-size-value').textContent = `${brushPx()} px`;
  });
  $('feather').addEventListener('input', () => {
    $('feather-value').textContent = `${featherPx()} px`;
    render();
  });
  $('overlay-opacity').addEventListener('input', render);

  // A mask file in our convention (transparent = edit) becomes the painted mask.
  $('mask-file').addEventListener('change', async (e) => {
    const file = e.target.files[0];
    e.target.value = '';
    if (!file) return;
    $('mask-error').textContent = '';
    if (!studio.image) {
      showError('mask', 'open the image first; the mask must have its size');
      return;
    }
    let bitmap;
    try {
      bitmap = await createImageBitmap(file);
    } catch {
      showError('mask', `${file.name} is not an image this browser can read`);
      return;
    }
    const { width, height } = studio.image;
    if (bitmap.width !== width || bitmap.height !== height) {
      showError('mask', `mask is ${bitmap.width}x${bitmap.height} but image is ${width}x${height}; they must be the same size`);
      return;
    }
    snapshot();
    const ctx = paintCtx();
    ctx.clearRect(0, 0, width, height);
    ctx.drawImage(bitmap, 0, 0);
    const data = ctx.getImageData(0, 0, width, height);
    const px = data.data;
    let edited = 0;
    for (let i = 0; i < px.length; i += 4) {
      const edit = 255 - px[i + 3];
      px[i] = px[i + 1] = px[i + 2] = 255;
      px[i + 3] = edit;
      if (edit) edited += 1;
    }
    ctx.putImageData(data, 0, 0);
    studio.painted = edited > 0;
    render();
    setStatus(`Loaded mask ${file.name}.`);
  });

  // The mask to send: transparent where the model may edit, opaque elsewhere,
  // at the image's size. Without feathering it is exactly what the overlay shows.
  function maskPixels() {
    const { width, height } = studio.image;
    const out = canvasOf(width, height);
    const ctx = out.getContext('2d');
    if (featherPx() > 0) ctx.filter = `blur(${featherPx()}px)`;
    ctx.drawImage(paint, 0, 0);
    ctx.filter = 'none';
    const data = ctx.getImageData(0, 0, width, height);
    const px = data.data;
    const feathered = featherPx() > 0;
    for (let i = 0; i < px.length; i += 4) {
      const edit = feathered ? px[i + 3] : px[i + 3] >= 128 ? 255 : 0;
      px[i] = px[i + 1] = px[i + 2] = 0;
      px[i + 3] = 255 - edit;
    }
    ctx.putImageData(data, 0, 0);
    return { canvas: out, data };
  }

  let maskUrl = null;
  let maskTimer = null;
  // The download link of the mask follows the painting, a moment after it stops.
  // `data-fresh` says whether the link holds the mask as it is now.
  function refreshMaskDownload() {
    clearTimeout(maskTimer);
    const link = $('mask-download');
    link.dataset.fresh = 'false';
    maskTimer = setTimeout(async () => {
      if (!studio.image || !studio.painted) {
        link.hidden = true;
        link.dataset.fresh = 'true';
        return;
      }
      const timer = maskTimer;
      const blob = await canvasBlob(maskPixels().canvas);
      if (timer !== maskTimer) return; // painted again meanwhile
      if (maskUrl) URL.revokeObjectURL(maskUrl);
      maskUrl = URL.createObjectURL(blob);
      link.href = maskUrl;
      link.hidden = false;
      link.dataset.fresh = 'true';
    }, 150);
  }

  function canvasBlob(canvas) {
    return new Promise((resolve, reject) => {
      canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('the browser could not encode a PNG'))), 'image/png');
    });
  }

  // ---- running an edit ---------------------------------------------------

  // The request, as any client sends it: multipart, the image and mask as PNG files.
  async function editForm() {
    const caps = studio.model.capabilities;
    const form = new FormData();
    const original = canvasOf(studio.image.width, studio.image.height, imageCanvas);
    form.append('image', await canvasBlob(original), 'image.png');
    let keep = null;
    if (studio.painted) {
      const mask = maskPixels();
      form.append('mask', await canvasBlob(mask.canvas), 'mask.png');
      keep = mask.data;
    }
    form.append('model', studio.model.id);
    form.append('prompt', $('prompt').value);
    if ($('n').value !== '') form.append('n', $('n').value);
    if ($('size').value.trim() && !$('size').disabled) form.append('size', $('size').value.trim());
    if (caps.seed && $('seed').value !== '') form.append('seed', $('seed').value);
    const keepChecked = $('keep-unmasked').checked;
    if (keep || keepChecked !== caps.keep_unmasked_default) form.append('keep_unmasked', String(keepChecked));
    for (const control of document.querySelectorAll('[data-option]')) {
      if (control.value !== '') form.append(control.dataset.option, control.value);
    }
    const stream = caps.streaming;
    if (stream) {
      form.append('stream', 'true');
      if (caps.options.some((o) => o.name === 'partial_images') && !form.has('partial_images')) form.append('partial_images', '2');
    }
    form.append('response_format', 'b64_json');
    return { form, original, keep, stream };
  }

  async function runEdit() {
    clearErrors();
    if (studio.running) return;
    if (!studio.image) {
      showError('image', 'open an image first');
      return;
    }
    if (!studio.model) {
      showError('model', 'no model is available; check the gateway key');
      return;
    }
    const controller = new AbortController();
    studio.running = controller;
    $('run').disabled = true;
    $('cancel').hidden = false;
    const progress = $('progress');
    progress.replaceChildren();
    progress.hidden = false;
    const started = performance.now();
    const tick = setInterval(() => setStatus(`Running ${studio.model.id}… ${((performance.now() - started) / 1000).toFixed(1)} s`), 100);
    try {
      const { form, original, keep, stream } = await editForm();
      const response = await fetch('/v1/images/edits', {
        method: 'POST',
        headers: authHeaders(),
        body: form,
        signal: controller.signal,
      });
      if (!response.ok) {
        showApiError(response.status, await response.json().catch(() => null));
        setStatus(`The gateway answered ${response.status}; the messages are beside the fields they concern.`);
        return;
      }
      const images = stream ? await readStream(response, progress) : await readJson(response);
      const ms = performance.now() - started;
      const cost = response.headers.get('x-msgflux-cost-usd');
      await showResults({ original, keep, images, ms, cost, model: studio.model.id, prompt: $('prompt').value });
      setStatus(`Done in ${(ms / 1000).toFixed(1)} s: ${images.length} result${images.length === 1 ? '' : 's'}.`);
    } catch (err) {
      if (err.name === 'AbortError') setStatus('Cancelled.');
      else if (err.apiError) showApiError(400, { error: err.apiError });
      else showError(null, `the edit failed: ${err.message}`);
    } finally {
      clearInterval(tick);
      studio.running = null;
      $('run').disabled = false;
      $('cancel').hidden = true;
      progress.hidden = true;
    }
  }

  function b64Blob(b64, type = 'image/png') {
    const bin = atob(b64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i += 1) bytes[i] = bin.charCodeAt(i);
    return new Blob([bytes], { type });
  }

  async function readJson(response) {
    const body = await response.json();
    return (body.data || []).map((d) => b64Blob(d.b64_json, `image/${body.output_format || 'png'}`));
  }

  // Server-sent events from a POST (EventSource only does GET): partial images shown as they come.
  async function readStream(response, progress) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    const images = [];
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
        if (!data) continue;
        const event = JSON.parse(data);
        const type = `image/${event.output_format || 'png'}`;
        if (event.type === 'image_edit.partial_image') {
          const img = new Image();
          img.src = URL.createObjectURL(b64Blob(event.b64_json, type));
          img.alt = `partial image ${event.partial_image_index + 1}`;
          progress.replaceChildren(img);
        } else if (event.type === 'image_edit.completed') {
          images.push(b64Blob(event.b64_json, type));
        } else if (event.type === 'error') {
          throw Object.assign(new Error(event.error.message), { apiError: event.error });
        }
      }
    }
    return images;
  }

  $('edit-form').addEventListener('submit', (e) => {
    e.preventDefault();
    runEdit();
  });
  $('cancel').addEventListener('click', () => studio.running && studio.running.abort());

  // ---- results and comparison --------------------------------------------

  async function showResults(edit, { remember = true } = {}) {
    const decoded = [];
    for (const blob of edit.images) {
      decoded.push({ blob, url: URL.createObjectURL(blob), bitmap: await createImageBitmap(blob), diff: null });
    }
    if (studio.edit) for (const r of studio.edit.results) URL.revokeObjectURL(r.url);
    studio.edit = { ...edit, results: decoded, selected: 0 };
    const list = $('results');
    list.replaceChildren(...decoded.map((r, i) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'thumb';
      button.setAttribute('role', 'option');
      button.setAttribute('aria-label', `variation ${i + 1}`);
      const img = new Image();
      img.src = r.url;
      img.alt = `result ${i + 1}`;
      button.append(img);
      button.addEventListener('click', () => selectResult(i));
      return button;
    }));
    $('results-empty').hidden = decoded.length > 0;
    $('compare').hidden = decoded.length === 0;
    const cost = edit.cost ? `estimated cost $${Number(edit.cost).toFixed(4)}` : 'no cost estimate (free, or the provider has no price table)';
    $('result-meta').textContent = `${edit.model}: ${(edit.ms / 1000).toFixed(2)} s, ${cost}.`;
    if (decoded.length) selectResult(0);
    if (remember) saveHistory(edit);
  }

  function selectResult(index) {
    const edit = studio.edit;
    edit.selected = index;
    for (const [i, b] of [...$('results').children].entries()) b.setAttribute('aria-selected', String(i === index));
    const result = edit.results[index];
    const link = $('download');
    link.href = result.url;
    link.download = `msgflux-result-${index + 1}.png`;
    drawCompare();
  }

  // A result drawn at the original's size (providers may answer at another size).
  function resultAtInputSize(result, width, height) {
    return canvasOf(width, height, result.bitmap);
  }

  // Changed pixels: inside the mask in green, outside it in red (what the
  // model should not have touched); unchanged ones as a faded original.
  function difference(edit, result) {
    const { width, height } = edit.original;
    const before = edit.original.getContext('2d').getImageData(0, 0, width, height).data;
    const after = resultAtInputSize(result, width, height).getContext('2d').getImageData(0, 0, width, height).data;
    const out = new ImageData(width, height);
    const px = out.data;
    let inside = 0;
    let outside = 0;
    let kept = 0;
    for (let i = 0; i < px.length; i += 4) {
      const changed = before[i] !== after[i] || before[i + 1] !== after[i + 1] || before[i + 2] !== after[i + 2];
      // Without a mask every pixel was free to change.
      const keepHere = edit.keep ? edit.keep.data[i + 3] === 255 : false;
      if (keepHere) kept += 1;
      if (changed && keepHere) {
        outside += 1;
        px.set([255, 0, 0, 255], i);
      } else if (changed) {
        inside += 1;
        px.set([0, 200, 80, 255], i);
      } else {
        const grey = (before[i] + before[i + 1] + before[i + 2]) / 6 + 100;
        px.set([grey, grey, grey, 255], i);
      }
    }
    return { image: out, inside, outside, kept };
  }

  function drawCompare() {
    const edit = studio.edit;
    if (!edit) return;
    const result = edit.results[edit.selected];
    const { width, height } = edit.original;
    const canvas = $('compare-canvas');
    const ctx = canvas.getContext('2d');
    const mode = studio.compareMode;
    $('slider-row').hidden = mode !== 'slider';
    canvas.dataset.mode = mode;
    if (mode === 'side') {
      const gap = Math.max(4, Math.round(width / 100));
      canvas.width = width * 2 + gap;
      canvas.height = height;
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      ctx.drawImage(edit.original, 0, 0);
      ctx.drawImage(result.bitmap, width + gap, 0, width, height);
    } else if (mode === 'slider') {
      canvas.width = width;
      canvas.height = height;
      const x = Math.round((width * Number($('slider').value)) / 100);
      ctx.drawImage(result.bitmap, 0, 0, width, height);
      ctx.drawImage(edit.original, 0, 0, x, height, 0, 0, x, height);
      ctx.fillStyle = '#fff';
      ctx.fillRect(Math.min(x, width - 2), 0, 2, height);
    } else {
      canvas.width = width;
      canvas.height = height;
      result.diff = result.diff || difference(edit, result);
      ctx.putImageData(result.diff.image, 0, 0);
    }
    const d = result.diff || difference(edit, result);
    result.diff = d;
    const share = d.kept ? ((100 * d.outside) / d.kept).toFixed(2) : '0.00';
    $('diff-stats').textContent = edit.keep
      ? `Changed pixels: ${d.inside} inside the mask, ${d.outside} outside it (${share}% of the kept area).`
      : `Changed pixels: ${d.inside} (no mask: the whole image was free to change).`;
  }

  for (const radio of document.querySelectorAll('input[name="compare-mode"]')) {
    radio.addEventListener('change', () => setCompareMode(radio.value));
  }
  function setCompareMode(mode) {
    studio.compareMode = mode;
    for (const radio of document.querySelectorAll('input[name="compare-mode"]')) radio.checked = radio.value === mode;
    drawCompare();
  }
  $('slider').addEventListener('input', drawCompare);

  // Iterative editing: the selected result becomes the next input.
  $('continue').addEventListener('click', () => {
    const edit = studio.edit;
    if (!edit) return;
    const result = edit.results[edit.selected];
    setInput(result.bitmap);
    setStatus(`Continuing from result ${edit.selected + 1}: it is now the input; paint the next mask.`);
  });

  // ---- history (IndexedDB, this browser only) ----------------------------

  let opened = null;
  function database() {
    opened = opened || new Promise((resolve, reject) => {
      const open = indexedDB.open('msgflux-studio', 1);
      open.onupgradeneeded = () => open.result.createObjectStore('edits', { keyPath: 'id', autoIncrement: true });
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    return opened;
  }

  function transaction(mode, work) {
    return database().then((db) => new Promise((resolve, reject) => {
      const tx = db.transaction('edits', mode);
      const result = work(tx.objectStore('edits'));
      tx.oncomplete = () => resolve(result && result.result);
      tx.onerror = () => reject(tx.error);
    }));
  }

  async function saveHistory(edit) {
    try {
      const original = await canvasBlob(edit.original);
      const keep = edit.keep ? await imageDataBlob(edit.keep) : null;
      await transaction('readwrite', (store) => store.add({
        time: Date.now(), model: edit.model, prompt: edit.prompt, ms: edit.ms, cost: edit.cost,
        original, keep, images: edit.images,
      }));
      const keys = await transaction('readonly', (store) => store.getAllKeys());
      const old = keys.slice(0, Math.max(0, keys.length - HISTORY_LIMIT));
      if (old.length) await transaction('readwrite', (store) => old.forEach((k) => store.delete(k)));
      await showHistory();
    } catch (err) {
      setStatus(`${$('status').textContent} (history not saved: ${err.message})`);
    }
  }

  function imageDataBlob(data) {
    const c = canvasOf(data.width, data.height);
    c.getContext('2d').putImageData(data, 0, 0);
    return canvasBlob(c);
  }

  async function blobPixels(blob) {
    const bitmap = await createImageBitmap(blob);
    const c = canvasOf(bitmap.width, bitmap.height, bitmap);
    return { canvas: c, data: c.getContext('2d').getImageData(0, 0, c.width, c.height) };
  }

  async function showHistory() {
    let entries = [];
    try {
      entries = await transaction('readonly', (store) => store.getAll());
    } catch {
      $('history').replaceChildren(Object.assign(document.createElement('li'), { textContent: 'History is not available in this browser.' }));
      return;
    }
    $('history').replaceChildren(...entries.reverse().map((entry) => {
      const li = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'history-item';
      const img = new Image();
      img.src = URL.createObjectURL(entry.images[0] || entry.original);
      img.alt = '';
      const text = document.createElement('span');
      text.textContent = `${new Date(entry.time).toLocaleTimeString()} · ${entry.model} · ${entry.prompt || '(no prompt)'}`;
      button.append(img, text);
      button.setAttribute('aria-label', `open the edit of ${text.textContent}`);
      button.addEventListener('click', () => reopen(entry));
      li.append(button);
      return li;
    }));
  }

  async function reopen(entry) {
    const original = (await blobPixels(entry.original)).canvas;
    const keep = entry.keep ? (await blobPixels(entry.keep)).data : null;
    await showResults({ original, keep, images: entry.images, ms: entry.ms, cost: entry.cost, model: entry.model, prompt: entry.prompt }, { remember: false });
    setStatus('Opened an edit from the history; Continue makes its result the input.');
  }

  $('clear-history').addEventListener('click', async () => {
    await transaction('readwrite', (store) => store.clear()).catch(() => {});
    showHistory();
  });

  // ---- keyboard ----------------------------------------------------------

  document.addEventListener('keydown', (e) => {
    const ctrl = e.ctrlKey || e.metaKey;
    if (ctrl && e.key === 'Enter') {
      e.preventDefault();
      runEdit();
      return;
    }
    const typing = e.target.closest('input[type=text], input[type=url], input[type=number], input[type=password], textarea, select');
    if (typing) return;
    const key = e.key.toLowerCase();
    if (ctrl && key === 'z') {
      e.preventDefault();
      if (e.shiftKey) restore(studio.redo, studio.undo);
      else restore(studio.undo, studio.redo);
    } else if (ctrl && key === 'y') {
      e.preventDefault();
      restore(studio.redo, studio.undo);
    } else if (ctrl || e.altKey) {
      return;
    } else if ({ b: 'brush', e: 'eraser', r: 'rect', o: 'ellipse' }[key]) {
      setTool({ b: 'brush', e: 'eraser', r: 'rect', o: 'ellipse' }[key]);
    } else if (key === 'i') {
      invertMask();
    } else if (key === 'x') {
      clearMask();
    } else if (key === '[' || key === ']') {
      const size = $('brush-size');
      size.value = String(Math.max(1, brushPx() + (key === ']' ? 5 : -5)));
      size.dispatchEvent(new Event('input'));
    } else if (['1', '2', '3'].includes(key) && studio.edit) {
      setCompareMode(['side', 'slider', 'diff'][Number(key) - 1]);
    }
  });

  // ---- start -------------------------------------------------------------

  $('key').value = studio.key;
  $('remember-key').checked = Boolean(localStorage.getItem(KEY_STORE));
  setTool('brush');
  loadModels();
  showHistory();
})();
