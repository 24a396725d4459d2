// The operations dashboard: polls /dashboard/data once a second (the /metrics exposition plus
// the routes) and draws what the scheduler, the KV cache and the rollout are doing. Every number
// is computed here from the same samples a Prometheus scraper gets: gauges as they are, counters
// as rates between two polls, latency percentiles from the histogram buckets observed in the
// last 30 seconds.
import { keyedFetch, errorMessage } from './api.js';
import { parse, seriesFilter, sum, buckets, bucketDelta, quantile } from './prometheus.js';
import { LineChart, formatNumber } from './charts.js';

const KEY = 'sluice.dashboardKey';
const POLL_MS = 1000;
const WINDOW_MS = 30000;
const $ = id => document.getElementById(id);

const history = []; // {time, samples}, the last minute
const charts = {
  requests: new LineChart($('chart-requests'), ['running', 'waiting']),
  tokens: new LineChart($('chart-tokens'), ['tokens/s']),
  ttft: new LineChart($('chart-ttft'), ['p50', 'p90', 'p99']),
  itl: new LineChart($('chart-itl'), ['p50', 'p90', 'p99']),
  kv: new LineChart($('chart-kv'), ['used', 'cached', 'free']),
  cache: new LineChart($('chart-cache'), ['hit %', 'preemptions/s']),
  versions: new LineChart($('chart-versions'), []),
};

function tile(id, label, value, title) {
  let node = document.querySelector(`[data-stat="${id}"]`);
  if (!node) {
    node = document.createElement('div');
    node.className = 'tile';
    node.dataset.stat = id;
    const v = document.createElement('span');
    v.className = 'v';
    const k = document.createElement('span');
    k.className = 'k';
    k.textContent = label;
    node.append(v, k);
    $('tiles').append(node);
  }
  node.querySelector('.v').textContent = value;
  if (title) {
    node.title = title;
  }
}

/** The oldest poll within the window, to compute windowed rates and percentiles against. */
function windowStart(now) {
  return history.find(h => h.time >= now - WINDOW_MS) ?? history[0];
}

function rate(name, filter, later, earlier) {
  const a = sum(later.samples, name, filter);
  const b = sum(earlier.samples, name, filter);
  const seconds = (later.time - earlier.time) / 1000;
  return a == null || b == null || seconds <= 0 ? null : Math.max(0, a - b) / seconds;
}

function percentiles(name, filter, later, earlier) {
  const delta = bucketDelta(buckets(later.samples, name, filter), buckets(earlier.samples, name, filter));
  return [0.5, 0.9, 0.99].map(q => {
    const v = quantile(q, delta);
    return v == null ? null : v * 1000;
  });
}

function updateSeriesPicker(samples) {
  const select = $('series');
  const ids = [...new Set(samples.filter(s => s.name === 'sluice:model_ready')
    .map(s => s.labels.model_name + ':' + s.labels.version))];
  const options = ['', ...ids];
  const have = [...select.options].map(o => o.value);
  if (have.join('\n') !== options.join('\n')) {
    const chosen = select.value;
    select.replaceChildren(...options.map(id => {
      const o = document.createElement('option');
      o.value = id;
      o.textContent = id || 'all versions';
      return o;
    }));
    select.value = options.includes(chosen) ? chosen : '';
  }
}

function draw(now) {
  const latest = history.at(-1);
  const previous = history.at(-2) ?? latest;
  const early = windowStart(now.time);
  const filter = seriesFilter($('series').value);
  const s = latest.samples;
  const g = name => sum(s, 'sluice:' + name, filter);

  const running = g('num_requests_running');
  const waiting = g('num_requests_waiting');
  const tokensPerSecond = rate('sluice:generation_tokens_total', filter, latest, previous);
  const ttft = percentiles('sluice:time_to_first_token_seconds', filter, latest, early);
  const itl = percentiles('sluice:inter_token_latency_seconds', filter, latest, early);
  const used = g('kv_cache_blocks_used');
  const cached = g('kv_cache_blocks_cached_free');
  const free = g('kv_cache_blocks_free');
  const queries = rate('sluice:prefix_cache_queries_total', filter, latest, early);
  const hits = rate('sluice:prefix_cache_hits_total', filter, latest, early);
  const hitRate = queries ? 100 * hits / queries : null;
  const preemptionRate = rate('sluice:num_preemptions_total', filter, latest, previous);

  tile('running', 'running', formatNumber(running));
  tile('waiting', 'waiting', formatNumber(waiting));
  tile('tokens-per-second', 'tokens/s', formatNumber(tokensPerSecond));
  tile('generated', 'tokens generated', formatNumber(g('generation_tokens_total')));
  tile('ttft-p50', 'TTFT p50 ms', formatNumber(ttft[0]), 'median time to first token, last 30 s');
  tile('ttft-p99', 'TTFT p99 ms', formatNumber(ttft[2]), 'last 30 s');
  tile('itl-p50', 'ITL p50 ms', formatNumber(itl[0]), 'median inter-token latency, last 30 s');
  tile('kv-used', 'KV blocks used', `${formatNumber(used)} / ${formatNumber(g('kv_cache_blocks_total'))}`);
  tile('kv-cached', 'KV blocks cached', formatNumber(cached), 'free blocks still holding reusable prefixes');
  tile('hit-rate', 'prefix hit %', formatNumber(hitRate), 'prompt tokens served from the prefix cache, last 30 s');
  tile('preemptions', 'preemptions', formatNumber(g('num_preemptions_total')));
  tile('requests', 'requests done', formatNumber(sum(s, 'sluice:request_success_total', filter)));
  tile('failures', 'failures', formatNumber(g('request_failure_total')));

  charts.requests.push([running, waiting]);
  charts.tokens.push([tokensPerSecond]);
  charts.ttft.push(ttft);
  charts.itl.push(itl);
  charts.kv.push([used, cached, free]);
  charts.cache.push([hitRate, preemptionRate]);

  const versions = [...new Set(s.filter(x => x.name === 'sluice:version_requests_total' && filter(x.labels))
    .map(x => x.labels.model_name + ':' + x.labels.version))];
  charts.versions.reset(versions);
  charts.versions.push(versions.map(id => rate('sluice:version_requests_total', seriesFilter(id), latest, previous)));
}

function cell(row, text, className) {
  const td = document.createElement(row.parentNode?.tagName === 'THEAD' ? 'th' : 'td');
  td.textContent = text;
  if (className) {
    td.className = className;
  }
  row.append(td);
}

/** One table per route: each version's weight and share, the guard's view of it, and the route's settings. */
function drawRoutes(routes) {
  const out = [];
  for (const [name, route] of Object.entries(routes)) {
    const section = document.createElement('div');
    section.className = 'route';
    section.dataset.route = name;
    const title = document.createElement('h3');
    title.textContent = name;
    const facts = [];
    facts.push('stable ' + route.stable);
    if (route.sticky) {
      facts.push('sticky ' + route.sticky);
    }
    if (route.shadow) {
      facts.push(`shadow ${route.shadow.version} at ${route.shadow.percent} %`);
    }
    if (route.guard) {
      const gd = route.guard;
      facts.push(`guard: error rate ≤ ${gd.max_error_rate}, TTFT p99 ≤ ${gd.max_ttft_p99_ratio}× stable, after ${gd.min_requests} requests`);
    } else {
      facts.push('no guard');
    }
    facts.push(`rollbacks ${route.rollbacks} (by the guard ${route.guard_rollbacks})`);
    const p = document.createElement('p');
    p.className = 'muted';
    p.textContent = facts.join(' · ');
    const table = document.createElement('table');
    const head = table.createTHead().insertRow();
    ['version', 'state', 'weight', 'share', 'window requests', 'error rate', 'TTFT p99 ms'].forEach(h => cell(head, h));
    const weights = route.weights || {};
    const total = Object.values(weights).reduce((a, b) => a + b, 0);
    const body = table.createTBody();
    for (const [version, v] of Object.entries(route.versions || {})) {
      const row = body.insertRow();
      const weight = weights[version] ?? 0;
      cell(row, version + (version === route.stable ? ' (stable)' : weight > 0 ? ' (canary)' : ''));
      cell(row, v.state);
      cell(row, String(weight));
      cell(row, total ? formatNumber(100 * weight / total) + ' %' : '–');
      cell(row, String(v.window_requests));
      const breach = route.guard && version !== route.stable && v.window_requests >= route.guard.min_requests
        && route.guard.max_error_rate > 0 && v.window_error_rate > route.guard.max_error_rate;
      cell(row, formatNumber(100 * v.window_error_rate) + ' %', breach ? 'bad' : undefined);
      cell(row, formatNumber(v.window_ttft_p99_ms));
    }
    section.append(title, p, table);
    out.push(section);
  }
  $('routes').replaceChildren(...(out.length ? out : [Object.assign(document.createElement('p'), { textContent: 'No routes.' })]));
}

async function poll() {
  try {
    const response = await keyedFetch(KEY, '/dashboard/data', { cache: 'no-store' });
    if (!response.ok) {
      $('status').textContent = 'Could not read the metrics: ' + await errorMessage(response);
      return;
    }
    const data = await response.json();
    const snapshot = { time: data.time, samples: parse(data.metrics) };
    history.push(snapshot);
    while (history.length > 2 && history[0].time < snapshot.time - 2 * WINDOW_MS) {
      history.shift();
    }
    updateSeriesPicker(snapshot.samples);
    draw(snapshot);
    drawRoutes(data.routes || {});
    $('status').textContent = '';
    $('updated').textContent = 'updated ' + new Date(data.time).toLocaleTimeString();
    document.body.dataset.polls = String((Number(document.body.dataset.polls) || 0) + 1);
  } catch (e) {
    $('status').textContent = 'Could not reach the server: ' + e.message;
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

// A new choice of series shows from the next poll on (within a second).
poll();
