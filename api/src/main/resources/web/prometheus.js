// Prometheus' text exposition (what GET /metrics serves) parsed in the page, and the arithmetic
// the dashboard needs over it: sums across series, rates between two scrapes, and quantiles
// from histogram buckets the way PromQL's histogram_quantile interpolates them.

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Every sample: [{name, labels, value}]. Comments and malformed lines are skipped. */
export function parse(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) {
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) {
      continue;
    }
    const labels = {};
    for (const l of (m[2] || '').matchAll(LABEL)) {
      labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    }
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    samples.push({ name: m[1], labels, value });
  }
  return samples;
}

/** A filter on model_name and version; null matches every series. */
export function seriesFilter(selected) {
  if (!selected) {
    return () => true;
  }
  const colon = selected.lastIndexOf(':');
  const name = selected.slice(0, colon);
  const version = selected.slice(colon + 1);
  return labels => labels.model_name === name && labels.version === version;
}

/** The sum of `name`'s samples whose labels pass `filter` (null when there is none). */
export function sum(samples, name, filter = () => true) {
  let total = null;
  for (const s of samples) {
    if (s.name === name && filter(s.labels)) {
      total = (total ?? 0) + s.value;
    }
  }
  return total;
}

/** A histogram's cumulative buckets summed over the series that pass `filter`: [[le, count]], by le. */
export function buckets(samples, name, filter = () => true) {
  const byLe = new Map();
  for (const s of samples) {
    if (s.name === name + '_bucket' && filter(s.labels)) {
      const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
      byLe.set(le, (byLe.get(le) ?? 0) + s.value);
    }
  }
  return [...byLe.entries()].sort((a, b) => a[0] - b[0]);
}

/** later - earlier, bucket by bucket (what was observed between two scrapes); a reset counts as 0. */
export function bucketDelta(later, earlier) {
  const before = new Map(earlier);
  return later.map(([le, count]) => [le, Math.max(0, count - (before.get(le) ?? 0))]);
}

/**
 * The q-quantile of cumulative buckets, interpolated linearly inside the bucket it falls in (as
 * histogram_quantile does); null without observations. A quantile in the +Inf bucket is the
 * highest finite bound.
 */
export function quantile(q, cumulative) {
  if (!cumulative.length) {
    return null;
  }
  const total = cumulative.at(-1)[1];
  if (!(total > 0)) {
    return null;
  }
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [le, count] of cumulative) {
    if (count >= rank) {
      if (le === Infinity) {
        return lowerBound;
      }
      return count === lowerCount ? le : lowerBound + (le - lowerBound) * (rank - lowerCount) / (count - lowerCount);
    }
    lowerBound = le;
    lowerCount = count;
  }
  return lowerBound;
}
