// The script embedded in our flame graph SVGs: click a frame to zoom into it (its callers widen
// to the full width, faded; the rest hides), "Reset Zoom" or Escape to go back; Search (or
// Ctrl-F, or "/") highlights frames whose names match a regular expression and shows what share
// of the total they cover, counting nested matches once. It reads everything from the drawn
// frames (rect geometry, <title> labels), so the SVG holds no second copy of the data, and it
// loads nothing from outside: the file works offline and from a local disk.

export interface ScriptConfig {
  /** x of the root frame's left edge, and its width: the whole graph. */
  left: number;
  width: number;
  /** Average character advance, to refit labels as frames change width. */
  charWidth: number;
  frameHeight: number;
}

// Kept to what every current browser runs in an SVG document (no modules, no build step); the
// label fitting mirrors fitLabel() in flamegraph.ts so zooming out restores the same text.
const SCRIPT = `(function () {
  'use strict';
  var doc = document;
  var frames = [].slice.call(doc.querySelectorAll('g.f')).map(function (g) {
    var rect = g.querySelector('rect');
    var label = g.querySelector('title').textContent;
    return {
      g: g, rect: rect, text: g.querySelector('text'), label: label,
      name: label.slice(0, label.lastIndexOf(' (')),
      x: Number(rect.getAttribute('x')), w: Number(rect.getAttribute('width')),
      y: Number(rect.getAttribute('y')), fill: rect.getAttribute('fill')
    };
  });
  var details = doc.getElementById('details');
  var matched = doc.getElementById('matched');
  var unzoomButton = doc.getElementById('unzoom');
  var searchButton = doc.getElementById('search');
  var EPS = 0.005;
  var zoomed = null;
  var term = null;

  function fit(name, width) {
    var chars = Math.floor((width - 6) / C.charWidth);
    if (chars < 3) return '';
    return name.length <= chars ? name : name.slice(0, chars - 2) + '..';
  }
  function round(n) { return String(Math.round(n * 100) / 100); }
  function place(f, x, w) {
    f.rect.setAttribute('x', round(x));
    f.rect.setAttribute('width', round(w));
    f.text.setAttribute('x', round(x + 3));
    f.text.textContent = fit(f.name, w);
  }
  function show(el, on) { el.classList.toggle('hidden', !on); }

  function zoom(target) {
    zoomed = target;
    var scale = C.width / target.w;
    var end = target.x + target.w;
    frames.forEach(function (f) {
      var within = f.x >= target.x - EPS && f.x + f.w <= end + EPS;
      var covers = f.x <= target.x + EPS && f.x + f.w >= end - EPS;
      f.g.classList.remove('ancestor');
      if (f.y > target.y && covers) {
        f.g.classList.add('ancestor');
        place(f, C.left, C.width);
        show(f.g, true);
      } else if (f.y <= target.y && within) {
        place(f, C.left + (f.x - target.x) * scale, f.w * scale);
        show(f.g, true);
      } else {
        show(f.g, false);
      }
    });
    show(unzoomButton, true);
  }
  function unzoom() {
    zoomed = null;
    frames.forEach(function (f) {
      f.g.classList.remove('ancestor');
      place(f, f.x, f.w);
      show(f.g, true);
    });
    show(unzoomButton, false);
  }

  function search(pattern) {
    var re;
    try { re = new RegExp(pattern); } catch (e) {
      re = new RegExp(pattern.replace(/[.*+?^$\\{}()|[\\]\\\\]/g, '\\\\$&'));
    }
    var spans = [];
    frames.forEach(function (f) {
      var hit = re.test(f.name);
      f.rect.setAttribute('fill', hit ? 'rgb(230,0,230)' : f.fill);
      if (hit) spans.push([f.x, f.x + f.w]);
    });
    // A match inside a matching caller is already counted by the caller's width.
    spans.sort(function (a, b) { return a[0] - b[0] || b[1] - a[1]; });
    var covered = 0, reach = -Infinity;
    spans.forEach(function (s) {
      if (s[0] >= reach) { covered += s[1] - s[0]; reach = s[1]; }
      else if (s[1] > reach) { covered += s[1] - reach; reach = s[1]; }
    });
    term = pattern;
    matched.textContent = 'Matched: ' + (100 * covered / C.width).toFixed(2) + '%';
    searchButton.textContent = 'Reset Search';
  }
  function resetSearch() {
    term = null;
    frames.forEach(function (f) { f.rect.setAttribute('fill', f.fill); });
    matched.textContent = ' ';
    searchButton.textContent = 'Search';
  }
  function askSearch() {
    var pattern = window.prompt('Search frames (regular expression)', term || '');
    if (pattern) search(pattern);
  }

  function frameOf(event) {
    var g = event.target.closest && event.target.closest('g.f');
    return (g && byElement.get(g)) || null;
  }
  var byElement = new Map(frames.map(function (f) { return [f.g, f]; }));
  var container = doc.getElementById('frames');
  if (container) {
    container.addEventListener('click', function (e) { var f = frameOf(e); if (f) zoom(f); });
    container.addEventListener('mouseover', function (e) {
      var f = frameOf(e);
      details.textContent = f ? f.label : ' ';
    });
    container.addEventListener('mouseout', function () { details.textContent = ' '; });
  }
  unzoomButton.addEventListener('click', unzoom);
  searchButton.addEventListener('click', function () { if (term === null) askSearch(); else resetSearch(); });
  window.addEventListener('keydown', function (e) {
    if ((e.key === 'f' && (e.ctrlKey || e.metaKey)) || (e.key === '/' && !e.ctrlKey)) {
      e.preventDefault();
      askSearch();
    } else if (e.key === 'Escape') {
      if (zoomed) unzoom();
      if (term !== null) resetSearch();
    }
  });
  show(searchButton, frames.length > 0);
  show(doc.getElementById('help'), frames.length > 0);
})();`;

/** The script with its configuration; it contains no "]]>", so it sits in a CDATA section. */
export function flameGraphScript(config: ScriptConfig): string {
  return SCRIPT.replace("'use strict';\n", `'use strict';\n  var C = ${JSON.stringify(config)};\n`);
}
