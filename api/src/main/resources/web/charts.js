// A small SVG line chart for the dashboard: a fixed number of points per series, drawn as paths,
// with the latest values in a legend. Colours come from the stylesheet (classes s0, s1, ...), so
// the page needs no inline style.

const SVG = 'http://www.w3.org/2000/svg';
const W = 320;
const H = 120;
const PAD_LEFT = 36;

function svg(tag, attributes = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attributes)) {
    node.setAttribute(k, v);
  }
  return node;
}

export function formatNumber(v) {
  if (v == null || Number.isNaN(v)) {
    return '–';
  }
  const a = Math.abs(v);
  if (a >= 1e6) {
    return (v / 1e6).toFixed(1) + 'M';
  }
  if (a >= 1e4) {
    return (v / 1e3).toFixed(1) + 'k';
  }
  if (a >= 100 || Number.isInteger(v)) {
    return Math.round(v).toString();
  }
  return a >= 10 ? v.toFixed(1) : v.toFixed(2);
}

export class LineChart {
  /** `names`: the series' names; `points`: how many samples the chart keeps. */
  constructor(container, names, points = 120) {
    this.points = points;
    this.names = names;
    this.data = names.map(() => []);
    this.svg = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', class: 'plot' });
    this.grid = svg('g', { class: 'grid' });
    this.paths = names.map((_, i) => svg('path', { class: 'line s' + (i % 6), fill: 'none' }));
    this.svg.append(this.grid, ...this.paths);
    this.legend = document.createElement('div');
    this.legend.className = 'legend';
    container.replaceChildren(this.svg, this.legend);
  }

  /** Adds one sample per series (null for none) and redraws. */
  push(values) {
    values.forEach((v, i) => {
      const d = this.data[i];
      d.push(v == null || !Number.isFinite(v) ? null : v);
      if (d.length > this.points) {
        d.shift();
      }
    });
    this.draw(values);
  }

  /** Replaces the series (names change when versions come and go). */
  reset(names) {
    if (names.join('\n') === this.names.join('\n')) {
      return;
    }
    const container = this.svg.parentNode;
    Object.assign(this, new LineChart(container, names, this.points));
  }

  draw(latest) {
    const all = this.data.flat().filter(v => v != null);
    const peak = Math.max(0, ...all) || 1; // an all-zero chart still gets a scale
    const top = peak * 1.1;
    const x = i => PAD_LEFT + (W - PAD_LEFT - 4) * i / (this.points - 1);
    const y = v => H - 14 - (H - 22) * v / top;
    this.grid.replaceChildren(
      svg('line', { x1: PAD_LEFT, x2: W - 4, y1: y(0), y2: y(0) }),
      svg('line', { x1: PAD_LEFT, x2: W - 4, y1: y(peak), y2: y(peak), class: 'faint' }),
      Object.assign(svg('text', { x: PAD_LEFT - 4, y: y(0) + 4, 'text-anchor': 'end' }), { textContent: '0' }),
      Object.assign(svg('text', { x: PAD_LEFT - 4, y: y(peak) + 4, 'text-anchor': 'end' }),
        { textContent: all.length ? formatNumber(peak) : '' }),
    );
    this.data.forEach((d, i) => {
      const offset = this.points - d.length;
      let path = '';
      let pen = false;
      d.forEach((v, j) => {
        if (v == null) {
          pen = false;
          return;
        }
        path += (pen ? 'L' : 'M') + x(offset + j).toFixed(1) + ' ' + y(v).toFixed(1);
        pen = true;
      });
      this.paths[i].setAttribute('d', path);
    });
    this.legend.replaceChildren(...this.names.map((name, i) => {
      const item = document.createElement('span');
      item.className = 'key s' + (i % 6);
      item.textContent = `${name} ${formatNumber(latest?.[i])}`;
      return item;
    }));
  }
}
