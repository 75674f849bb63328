// The browser test of jindu's HTML viewer, run by scripts/check-html (which
// installs Chromium, the CJK fonts and playwright-core first). It opens the
// page in Debian's headless Chromium through playwright-core and checks that
// the graph renders, that search selects, that filters hide, and saves a
// screenshot. One line per check, then `html: N passed, M failed`.
//
//   node tests/browser/check-html.mjs [PAGE.html [SCREENSHOT.png]] [options]
//
//   PAGE.html            a page made by `jindu export --format html`, or the
//                        template when --data is given (default:
//                        assets/viewer.html with tests/browser/fixture.json)
//   SCREENSHOT.png       where to save the 1280×800 screenshot (default: a
//                        temporary file, removed; docs/viewer.png is made with
//                        `scripts/check-html assets/viewer.html docs/viewer.png
//                         --data tests/browser/fixture.json --expect-label …`)
//   --data JSON          embed this viewer JSON into PAGE first, as the Rust
//                        exporter does
//   --expect-label NAME  the entity to search for (default: the node with the
//                        highest PageRank)
//   --large N            also check an N-node synthetic graph with 2N edges
//                        (default 3000; 0 skips it)
//   --large-limit S      the time the large graph may take to be ready (default 20)

import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const TEMPLATE = path.join(ROOT, 'assets', 'viewer.html');
const FIXTURE = path.join(ROOT, 'tests', 'browser', 'fixture.json');
// Spelled in two pieces so that this file never contains the placeholder.
const PLACEHOLDER = '/*JINDU_GRAPH_' + 'DATA*/null';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// Flags for Chromium on a machine with a closed network and no GPU.
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const VIEWPORT = { width: 1280, height: 800 };

// ---------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------

function parseArgs(argv) {
  const opts = { positional: [], data: null, expectLabel: null, large: 3000, largeLimit: 20 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--data') opts.data = value();
    else if (arg === '--expect-label') opts.expectLabel = value();
    else if (arg === '--large') opts.large = Number(value());
    else if (arg === '--large-limit') opts.largeLimit = Number(value());
    else if (arg === '-h' || arg === '--help') usage();
    else if (arg.startsWith('--')) usage(`unknown option ${arg}`);
    else opts.positional.push(arg);
  }
  if (opts.positional.length > 2) usage('too many arguments');
  if (!Number.isInteger(opts.large) || opts.large < 0) usage('--large takes a whole number');
  if (!(opts.largeLimit > 0)) usage('--large-limit takes a number of seconds');
  [opts.page, opts.screenshot] = opts.positional;
  if (!opts.page) {
    opts.page = TEMPLATE;
    opts.data = opts.data || FIXTURE;
  }
  return opts;
}

const USAGE = `usage: scripts/check-html [PAGE.html [SCREENSHOT.png]] [--data JSON] [--expect-label NAME]
                         [--large N] [--large-limit SECONDS]
  PAGE.html            a page made by \`jindu export --format html\`, or the template with --data
                       (default: assets/viewer.html with tests/browser/fixture.json)
  SCREENSHOT.png       where to save the 1280x800 screenshot (default: a temporary file)
  --data JSON          embed this viewer JSON into PAGE first, as the exporter does
  --expect-label NAME  the entity to search for (default: the highest PageRank)
  --large N            also check an N-node synthetic graph (default 3000; 0 skips it)
  --large-limit S      seconds the large graph may take to be ready (default 20)`;

function usage(error) {
  if (error) console.error(`check-html: ${error}`);
  console.error(USAGE);
  process.exit(error ? 2 : 0);
}

// ---------------------------------------------------------------------------
// Pages
// ---------------------------------------------------------------------------

/** What the Rust exporter does: the placeholder → the JSON, with every `<`
 *  escaped so that no `</script>` can end the data's script element early. */
function embed(template, data) {
  const parts = template.split(PLACEHOLDER);
  if (parts.length !== 2) throw new Error(`the template must contain the placeholder once (found ${parts.length - 1})`);
  return parts[0] + JSON.stringify(data).replace(/</g, '\\u003c') + parts[1];
}

/** A deterministic synthetic graph of n nodes and 2n edges in the viewer
 *  JSON schema: all five classes, a region tree, communities, evidence. */
function syntheticGraph(n) {
  let seed = 12345;
  const random = () => {   // mulberry32
    seed = (seed + 0x6D2B79F5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = (xs) => xs[Math.floor(random() * xs.length)];
  const provinces = ['云南省', '广东省', '四川省', '贵州省', '广西壮族自治区', '湖南省', '内蒙古自治区', '新疆维吾尔自治区', '浙江省', '福建省'];
  const classes = ['Agency', 'Region', 'Campaign', 'Case', 'Drug'];
  const weights = [0.35, 0.2, 0.05, 0.35, 0.05];
  const nodes = [];
  for (let i = 0; i < n; i++) {
    let r = random(), k = 0;
    while (r > weights[k] && k < 4) r -= weights[k++];
    const cls = classes[k];
    const province = provinces[i % provinces.length];
    const city = `${province.slice(0, 2)}第${(i % 37) + 1}市`;
    const label = { Agency: `${city}公安局${i}`, Region: `${city}${i}区`, Campaign: `清源断流${i}`, Case: `“${i % 12 + 1}·${i % 28 + 1}”贩毒案${i}`, Drug: `毒品${i}` }[cls];
    nodes.push({
      id: `https://w3id.org/jindu/id/${cls.toLowerCase()}/${i}`, label, class: cls, altLabels: i % 5 ? [] : [`别名${i}`],
      mentions: 1 + (i % 7), degree: 0, pagerank: 0, community: i % 40,
      regions: cls === 'Drug' ? [] : [city, province],
    });
  }
  const properties = ['locatedIn', 'subOrganizationOf', 'participatesIn', 'handledBy', 'occurredIn',
    'underCampaign', 'cooperatesWith', 'involvesDrug', 'partOf', 'supervisedBy'];
  const edges = [];
  for (let j = 0; j < 2 * n; j++) {
    const s = Math.floor(random() * n);
    // Mostly within the community (i ≡ s mod 40), so that the picture has clusters.
    const t = random() < 0.8 ? (s + 40 * (1 + Math.floor(random() * 20))) % n : Math.floor(random() * n);
    if (s === t) { j--; continue; }
    const support = Math.floor(random() * 4);
    edges.push({
      id: `e${j}`, source: nodes[s].id, target: nodes[t].id, property: pick(properties), support,
      evidence: Array.from({ length: support }, (_, k) => ({
        sentence: `${nodes[s].label}与${nodes[t].label}的第${k + 1}条证据句。`, file: `synthetic_${j}.txt`,
        article: `https://w3id.org/jindu/id/article/${j}-${k + 1}`, start: 10 * k, end: 10 * k + 9, rule: 'synthetic',
      })),
    });
    nodes[s].degree++;
    nodes[t].degree++;
  }
  const total = nodes.reduce((sum, node) => sum + node.degree + 1, 0);
  for (const node of nodes) node.pagerank = (node.degree + 1) / total;   // a stand-in, proportional to degree
  const colours = { Agency: '#1f77b4', Region: '#2ca02c', Campaign: '#ff7f0e', Case: '#d62728', Drug: '#9467bd' };
  const names = { Agency: '机构', Region: '地区', Campaign: '行动', Case: '案件', Drug: '毒品' };
  return {
    meta: { title: `synthetic ${n}-node graph`, generator: 'check-html', nodeCount: n, edgeCount: edges.length, filters: 'none' },
    classes: Object.fromEntries(classes.map((c) => [c, { label: names[c], color: colours[c] }])),
    nodes, edges,
  };
}

// ---------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------

let passed = 0;
let failed = 0;

function report(ok, name, detail) {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` (${detail})` : ''}`);
}

/** Runs one check; `fn` returns a detail string or throws an Error saying what is wrong. */
async function check(name, fn) {
  try {
    report(true, name, await fn());
  } catch (err) {
    report(false, name, String(err && err.message || err).split('\n')[0]);
  }
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

/** Opens a page and records what it asks of the network and the errors it throws. */
async function open(context, file, timeoutMs) {
  const page = await context.newPage();
  const requests = [];
  const errors = [];
  page.on('request', (req) => { if (!/^(file|data|blob|about):/.test(req.url())) requests.push(req.url()); });
  page.on('pageerror', (err) => errors.push(String(err)));
  page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()); });
  const t0 = Date.now();
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load', timeout: timeoutMs });
  await page.waitForFunction(() => document.body.dataset.ready === 'true' || document.body.dataset.ready === 'error',
    null, { timeout: timeoutMs, polling: 50 });
  return { page, requests, errors, seconds: (Date.now() - t0) / 1000 };
}

/** Counts drawn pixels on the graph's canvases and which class colours they show. */
function canvasSummary(page) {
  return page.evaluate(() => {
    const hex = (c) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
    const colours = Object.entries(JINDU_GRAPH.classes || {}).map(([name, c]) => ({ name, rgb: hex(c.color) }));
    const found = new Set();
    let drawn = 0;
    let total = 0;
    for (const canvas of document.querySelectorAll('#cy canvas')) {
      if (!canvas.width || !canvas.height) continue;
      const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      total += canvas.width * canvas.height;
      for (let i = 0; i < pixels.length; i += 4) {
        if (pixels[i + 3] < 250) continue;   // transparent or an anti-aliased edge
        drawn++;
        for (const { name, rgb } of colours) {
          if (Math.abs(pixels[i] - rgb[0]) < 6 && Math.abs(pixels[i + 1] - rgb[1]) < 6 && Math.abs(pixels[i + 2] - rgb[2]) < 6) found.add(name);
        }
      }
    }
    return { drawn, total, classes: [...found].sort() };
  });
}

async function checkTemplateUpToDate() {
  await check('assets/viewer.html is up to date with assets/viewer/page.html and the vendored library', () => {
    try {
      return execFileSync('python3', [path.join(ROOT, 'scripts', 'gen-viewer'), '--check'], { encoding: 'utf8', stdio: 'pipe' }).trim();
    } catch (err) {
      throw new Error((err.stderr || err.message).trim());
    }
  });
}

async function checkEmptyTemplate(context) {
  await check('the template without data says so and does not fail', async () => {
    const { page, requests, errors } = await open(context, TEMPLATE, 30000);
    try {
      const state = await page.evaluate(() => ({
        empty: window.jinduViewer.empty,
        message: document.getElementById('message').hidden ? '' : document.getElementById('message').textContent,
      }));
      expect(state.empty === true, 'jinduViewer.empty is not true');
      expect(/no data embedded/i.test(state.message), `no "No data embedded" message (shown: ${JSON.stringify(state.message)})`);
      expect(errors.length === 0, `script errors: ${errors.join(' | ')}`);
      expect(requests.length === 0, `network requests: ${requests.join(' ')}`);
      return state.message.slice(0, 40) + '…';
    } finally {
      await page.close();
    }
  });
}

async function checkFixturePage(context, file, opts) {
  let opened;
  await check('the page loads within 60 s', async () => {
    opened = await open(context, file, 60000);
    const state = await opened.page.evaluate(() => ({ ready: window.jinduViewer.ready, error: window.jinduViewer.error }));
    expect(!state.error, `the page reports: ${state.error}`);
    expect(state.ready, 'jinduViewer.ready is not true');
    return `${opened.seconds.toFixed(2)} s`;
  });
  if (!opened) return;
  const { page, requests, errors } = opened;
  const meta = await page.evaluate(() => JINDU_GRAPH.meta);

  await check('the graph rendered', async () => {
    const s = await page.evaluate(() => ({
      nodes: jinduViewer.nodeCount(), edges: jinduViewer.edgeCount(),
      visible: jinduViewer.visibleNodeCount(), layout: jinduViewer.layout, layoutMs: jinduViewer.layoutMs,
      classes: Object.keys(JINDU_GRAPH.classes).filter((c) => JINDU_GRAPH.nodes.some((n) => n.class === c)).sort(),
    }));
    expect(s.nodes === meta.nodeCount, `${s.nodes} nodes, meta.nodeCount is ${meta.nodeCount}`);
    expect(s.edges === meta.edgeCount, `${s.edges} edges, meta.edgeCount is ${meta.edgeCount}`);
    expect(s.visible === s.nodes, `only ${s.visible} of ${s.nodes} nodes visible`);
    const canvas = await canvasSummary(page);
    // A large graph fitted to the view draws small nodes: ask for a thousand
    // opaque pixels (or 0.2 % of the canvas, if less) and every class colour.
    expect(canvas.drawn > Math.min(canvas.total * 0.002, 1000), `the canvas is blank (${canvas.drawn} of ${canvas.total} pixels drawn)`);
    const missing = s.classes.filter((c) => !canvas.classes.includes(c));
    expect(missing.length === 0, `no pixels in the colour of ${missing.join(', ')}`);
    return `${s.nodes} nodes, ${s.edges} edges, layout ${s.layout} in ${s.layoutMs} ms; colours of ${canvas.classes.join(', ')} drawn`;
  });

  await check('no network requests and no script errors', () => {
    expect(requests.length === 0, `requests: ${requests.slice(0, 3).join(' ')}`);
    expect(errors.length === 0, `errors: ${errors.slice(0, 3).join(' | ')}`);
    return 'self-contained';
  });

  // The entity to search for: the one named, else the highest PageRank.
  const target = await page.evaluate((label) => {
    const nodes = JINDU_GRAPH.nodes.slice().sort((a, b) => (b.pagerank || 0) - (a.pagerank || 0));
    const node = label === null ? nodes[0] : nodes.find((n) => n.label === label);
    return node ? { id: node.id, label: node.label } : null;
  }, opts.expectLabel);

  const search = page.locator('#search');
  await check(`typing ${target ? target.label : opts.expectLabel} into the search box and pressing Enter selects it`, async () => {
    expect(target, `no node is labelled ${opts.expectLabel}`);
    await search.click();
    await search.fill('');
    await page.keyboard.type(target.label);
    await page.locator('#search-results li[role="option"]').first().waitFor({ timeout: 5000 });
    await page.keyboard.press('Enter');
    const s = await page.evaluate(() => ({
      id: jinduViewer.selectedId(),
      panel: !document.getElementById('panel').hidden,
      title: document.getElementById('panel-title').textContent,
      facts: document.querySelectorAll('#panel .fact').length,
    }));
    expect(s.id === target.id, `selected ${s.id}, expected ${target.id}`);
    expect(s.panel, 'the side panel is not shown');
    expect(s.title === target.label, `the panel is titled ${JSON.stringify(s.title)}`);
    return `${s.facts} facts in the panel`;
  });

  await check('part of a name lists matches; arrow keys and Enter choose one', async () => {
    expect(target, 'no entity to search for');
    // A part from the middle of the label, without its quotes.
    const plain = [...target.label.replace(/[“”"]/g, '')];
    const part = plain.slice(Math.floor(plain.length / 4), Math.floor(plain.length / 4) + Math.max(2, Math.ceil(plain.length / 3))).join('');
    await search.fill('');
    await search.click();
    await page.keyboard.type(part);
    const options = page.locator('#search-results li[role="option"]:not(.none)');
    await options.first().waitFor({ timeout: 5000 });
    const listed = await options.allTextContents();
    expect(listed.some((text) => text.includes(target.label)), `“${part}” does not list ${target.label}: ${listed.slice(0, 5).join(' / ')}`);
    const expected = await page.evaluate((p) => jinduViewer.matches(p), part);
    const down = Math.min(2, expected.length);   // move down to the second match, if any
    for (let i = 0; i < down; i++) await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    const chosen = await page.evaluate(() => jinduViewer.selectedId());
    expect(chosen === expected[down - 1], `selected ${chosen}, expected ${expected[down - 1]}`);
    return `“${part}” lists ${listed.length}`;
  });

  await check('clicking the other end of a fact in the side panel selects it', async () => {
    await page.evaluate((id) => jinduViewer.select(id), target.id);
    const button = page.locator('#panel .fact .ent').first();
    const label = (await button.textContent()).trim();
    await button.click();
    const s = await page.evaluate(() => ({ id: jinduViewer.selectedId(), title: document.getElementById('panel-title').textContent }));
    const node = await page.evaluate((id) => JINDU_GRAPH.nodes.find((n) => n.id === id), s.id);
    expect(node && node.label === label, `selected ${s.id}, the button said ${label}`);
    expect(s.title === label, `the panel is titled ${JSON.stringify(s.title)}`);
    return label;
  });

  await check('unticking a class hides exactly its nodes and their edges; ticking it shows them again', async () => {
    const classes = await page.evaluate(() => [...document.querySelectorAll('#class-filters input')].map((box) => box.dataset.cls));
    expect(classes.length > 0, 'no class checkboxes');
    const results = [];
    for (const cls of classes) {
      const box = page.locator(`#class-filters input[data-cls="${cls}"]`);
      await box.uncheck();
      const s = await page.evaluate((c) => {
        const ofClass = new Set(JINDU_GRAPH.nodes.filter((n) => n.class === c).map((n) => n.id));
        const visible = jinduViewer.visibleNodeIds();
        // What Cytoscape draws: nodes of the class have display none (and so their edges go).
        const drawn = jinduViewer.cy.nodes().filter((n) => n.style('display') !== 'none');
        return {
          hidden: ofClass.size,
          visible: visible.length,
          total: jinduViewer.nodeCount(),
          leaked: visible.filter((id) => ofClass.has(id)).length + drawn.filter((n) => ofClass.has(n.id())).length,
          drawn: drawn.length,
          edges: jinduViewer.visibleEdgeCount(),
          edgesExpected: JINDU_GRAPH.edges.filter((e) => !ofClass.has(e.source) && !ofClass.has(e.target)).length,
        };
      }, cls);
      expect(s.leaked === 0, `${cls}: ${s.leaked} of its nodes still shown`);
      expect(s.visible === s.total - s.hidden && s.drawn === s.visible, `${cls}: ${s.visible} shown, ${s.drawn} drawn, expected ${s.total - s.hidden}`);
      expect(s.edges === s.edgesExpected, `${cls}: ${s.edges} edges shown, ${s.edgesExpected} have no end of the class`);
      await box.check();
      const back = await page.evaluate(() => jinduViewer.visibleNodeCount() === jinduViewer.nodeCount());
      expect(back, `${cls}: ticking it again did not show every node`);
      results.push(`${cls} −${s.hidden}`);
    }
    return results.join(', ');
  });

  await check('choosing a region shows its entities and the region-less ones linked to them', async () => {
    const region = await page.evaluate(() => {
      const counts = new Map();
      for (const n of JINDU_GRAPH.nodes) for (const r of n.regions) counts.set(r, (counts.get(r) || 0) + 1);
      return [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0] ?? null;
    });
    expect(region, 'no node has a region');
    await page.selectOption('#region', region);
    const s = await page.evaluate((r) => {
      const visible = new Set(jinduViewer.visibleNodeIds());
      const inRegion = new Set(JINDU_GRAPH.nodes.filter((n) => n.regions.includes(r)).map((n) => n.id));
      const linked = (n) => JINDU_GRAPH.edges.some((e) => (e.source === n.id && inRegion.has(e.target)) || (e.target === n.id && inRegion.has(e.source)));
      const wrong = JINDU_GRAPH.nodes.filter((n) => visible.has(n.id) !== (inRegion.has(n.id) || (n.regions.length === 0 && linked(n))));
      return { visible: visible.size, inRegion: inRegion.size, wrong: wrong.map((n) => n.label) };
    }, region);
    expect(s.wrong.length === 0, `wrongly shown or hidden: ${s.wrong.slice(0, 5).join(', ')}`);
    await page.selectOption('#region', '');
    const back = await page.evaluate(() => jinduViewer.visibleNodeCount() === jinduViewer.nodeCount());
    expect(back, 'choosing all regions again did not show every node');
    return `${region}: ${s.visible} shown, ${s.inRegion} in it`;
  });

  const screenshot = opts.screenshot || path.join(os.tmpdir(), `jindu-viewer-${process.pid}.png`);
  await check(`screenshot saved to ${opts.screenshot || 'a temporary file'}`, async () => {
    // The picture: the whole graph, then the searched entity selected.
    await page.evaluate(() => { jinduViewer.clearSelection(); jinduViewer.fit(); });
    await page.waitForTimeout(400);
    await search.fill('');
    await search.click();
    await page.keyboard.type(target.label);
    await page.keyboard.press('Enter');
    await page.locator('#search').blur();
    await page.waitForTimeout(700);   // the zoom animation takes 300 ms
    fs.mkdirSync(path.dirname(path.resolve(screenshot)), { recursive: true });
    await page.screenshot({ path: screenshot });
    const png = fs.readFileSync(screenshot);
    const width = png.readUInt32BE(16);
    const height = png.readUInt32BE(20);
    expect(width === VIEWPORT.width && height === VIEWPORT.height, `${width}×${height}`);
    if (!opts.screenshot) fs.rmSync(screenshot);
    return `${width}×${height}, ${Math.round(png.length / 1024)} KB`;
  });
  await page.close();
}

/** Pages made from the template with awkward data: no nodes; names and
 *  sentences that are markup. */
async function checkAwkwardData(context, template, work) {
  const fixture = JSON.parse(fs.readFileSync(FIXTURE, 'utf8'));
  const write = (name, data) => {
    const file = path.join(work, name);
    fs.writeFileSync(file, embed(template, data));
    return file;
  };

  await check('a graph with no nodes says so and does not fail', async () => {
    const data = { meta: { ...fixture.meta, nodeCount: 0, edgeCount: 0 }, classes: fixture.classes, nodes: [], edges: [] };
    const { page, errors } = await open(context, write('empty.html', data), 30000);
    try {
      const message = await page.evaluate(() => document.getElementById('message').textContent);
      expect(/empty/i.test(message), `no "empty" message (shown: ${JSON.stringify(message)})`);
      expect(errors.length === 0, `errors: ${errors.slice(0, 3).join(' | ')}`);
      return message.slice(0, 30) + '…';
    } finally {
      await page.close();
    }
  });

  await check('names and sentences that look like markup are shown as text, never run', async () => {
    const hostile = '<img src=x onerror="window.pwned=1"></script><script>window.pwned=2</script>“8·12”案';
    const data = JSON.parse(JSON.stringify(fixture));
    const node = data.nodes.find((n) => data.edges.some((e) => e.source === n.id && e.evidence.length));
    node.label = hostile;
    node.altLabels = [hostile];
    for (const e of data.edges) for (const v of e.evidence) { v.sentence = hostile; v.file = hostile; }
    const { page, errors } = await open(context, write('hostile.html', data), 30000);
    try {
      const id = await page.evaluate((label) => jinduViewer.search(label), hostile);
      await page.waitForTimeout(100);
      const s = await page.evaluate(() => ({
        pwned: window.pwned, images: document.querySelectorAll('#panel img, #search-results img').length,
        title: document.getElementById('panel-title').textContent,
        sentences: [...document.querySelectorAll('#panel .evidence li > div:first-child')].map((d) => d.textContent),
      }));
      expect(s.pwned === undefined && s.images === 0, 'markup from the data ran');
      expect(errors.length === 0, `errors: ${errors.slice(0, 3).join(' | ')}`);
      expect(id === node.id && s.title === hostile, `searching the markup-like name selected ${id}, titled ${JSON.stringify(s.title)}`);
      expect(s.sentences.length > 0 && s.sentences.every((text) => text === hostile), 'the sentences are not shown as their text');
      return `${s.sentences.length} sentences shown as text`;
    } finally {
      await page.close();
    }
  });
}

async function checkLargeGraph(context, template, n, limit) {
  const file = path.join(os.tmpdir(), `jindu-viewer-large-${process.pid}.html`);
  const data = syntheticGraph(n);
  fs.writeFileSync(file, embed(template, data));
  try {
    await check(`a synthetic graph of ${n} nodes and ${data.edges.length} edges is ready within ${limit} s`, async () => {
      const { page, errors, seconds } = await open(context, file, (limit + 40) * 1000);
      try {
        const s = await page.evaluate(() => ({
          nodes: jinduViewer.nodeCount(), ready: jinduViewer.readyMs, layout: jinduViewer.layout, layoutMs: jinduViewer.layoutMs,
        }));
        expect(s.nodes === n, `${s.nodes} nodes`);
        expect(errors.length === 0, `errors: ${errors.slice(0, 3).join(' | ')}`);
        const canvas = await canvasSummary(page);
        expect(canvas.drawn > canvas.total * 0.002, 'the canvas is blank');
        const label = data.nodes[n - 1].label;
        const t0 = Date.now();
        const chosen = await page.evaluate((l) => jinduViewer.search(l), label);
        const searchMs = Date.now() - t0;
        expect(chosen === data.nodes[n - 1].id, `searching ${label} selected ${chosen}`);
        expect(seconds <= limit, `took ${seconds.toFixed(1)} s`);
        return `${seconds.toFixed(2)} s to ready (layout ${s.layout} ${s.layoutMs} ms), search and select ${searchMs} ms`;
      } finally {
        await page.close();
      }
    });
  } finally {
    fs.rmSync(file, { force: true });
  }
}

// ---------------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'jindu-check-html-'));
  let context;
  try {
    await checkTemplateUpToDate();

    let page = path.resolve(opts.page);
    const template = fs.readFileSync(TEMPLATE, 'utf8');
    if (opts.data) {
      const embedded = path.join(work, 'page.html');
      fs.writeFileSync(embedded, embed(fs.readFileSync(page, 'utf8'), JSON.parse(fs.readFileSync(opts.data, 'utf8'))));
      page = embedded;
    }

    context = await chromium.launchPersistentContext(path.join(work, 'profile'), {
      executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: VIEWPORT, deviceScaleFactor: 1,
    });
    await checkEmptyTemplate(context);
    await checkFixturePage(context, page, opts);
    await checkAwkwardData(context, template, work);
    if (opts.large > 0) await checkLargeGraph(context, template, opts.large, opts.largeLimit);
  } catch (err) {
    report(false, 'the test itself', String(err && err.stack || err).split('\n').slice(0, 3).join(' '));
  } finally {
    if (context) await context.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
  console.log(`html: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main();
