// The timeline of secrets expiring in the next 90 days, drawn as SVG.
// Readable without colour: the client kind is the mark's shape (circle,
// diamond), the urgency its fill pattern (solid, hatched, outline), and
// every mark has a days-left label and a title naming client, secret and
// date.
'use strict';

const PortalChart = (() => {
  const NS = 'http://www.w3.org/2000/svg';
  const DAY = 86400000;
  const HORIZON = 90;

  const buckets = [
    { id: 'urgent', max: 7, label: 'within 7 days', fill: 'url(#fill-urgent)' },
    { id: 'soon', max: 30, label: '8 to 30 days', fill: 'url(#fill-soon)' },
    { id: 'later', max: HORIZON, label: '31 to 90 days', fill: '#ffffff' },
  ];
  const kinds = {
    ClientCredential: { shape: 'circle', label: 'Client Credential client' },
    Hybrid: { shape: 'diamond', label: 'Hybrid client' },
  };

  function svg(tag, attrs, ...children) {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  }

  function bucketOf(days) { return buckets.find((b) => days <= b.max) || buckets[buckets.length - 1]; }

  function shape(kind, cx, cy, fill) {
    if ((kinds[kind] || kinds.ClientCredential).shape === 'diamond') {
      const r = 8;
      return svg('polygon', { class: 'shape', points: `${cx},${cy - r} ${cx + r},${cy} ${cx},${cy + r} ${cx - r},${cy}`, fill, stroke: '#1d1d1f', 'stroke-width': 1.5 });
    }
    return svg('circle', { class: 'shape', cx, cy, r: 6.5, fill, stroke: '#1d1d1f', 'stroke-width': 1.5 });
  }

  // defs are the fill patterns, once per page, for the chart and the
  // legend's swatches.
  function ensureDefs() {
    if (document.getElementById('chart-defs')) return;
    document.body.append(svg('svg', { id: 'chart-defs', width: 0, height: 0, class: 'defs', 'aria-hidden': 'true', focusable: 'false' }, svg('defs', {},
      svg('pattern', { id: 'fill-urgent', patternUnits: 'userSpaceOnUse', width: 4, height: 4 },
        svg('rect', { width: 4, height: 4, fill: '#9b1c1c' })),
      svg('pattern', { id: 'fill-soon', patternUnits: 'userSpaceOnUse', width: 4, height: 4, patternTransform: 'rotate(45)' },
        svg('rect', { width: 4, height: 4, fill: '#ffffff' }),
        svg('line', { x1: 1, y1: 0, x2: 1, y2: 4, stroke: '#8a4b00', 'stroke-width': 2 })))));
  }

  function dateLabel(d) {
    return d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' });
  }

  function isoDate(d) { return d.toISOString().slice(0, 10); }

  // daysLeft: whole days until t, rounded up (as the sweeper's warnings).
  function daysLeft(t, now) { return Math.ceil((t - now) / DAY); }

  // render draws items ({clientId, clientName, kind, secretId,
  // description, expiration: Date}) expiring within 90 days of now.
  function render(container, items, now) {
    const inRange = items.filter((i) => i.expiration > now && i.expiration - now <= HORIZON * DAY)
      .sort((a, b) => a.expiration - b.expiration);
    ensureDefs();
    container.replaceChildren();
    if (inRange.length === 0) {
      container.append(Portal.el('p', { class: 'empty', id: 'chart-empty' }, 'No secret expires in the next 90 days.'));
      return inRange;
    }
    const rows = [];
    for (const i of inRange) if (!rows.some((r) => r.clientId === i.clientId)) rows.push({ clientId: i.clientId, name: i.clientName, kind: i.kind });

    const W = Math.max(300, Math.floor(container.clientWidth || 720));
    const narrow = W < 520;
    const left = Math.round(Math.min(180, Math.max(86, W * 0.26)));
    const right = 34, top = 14, rowH = 30, bottom = 58;
    const H = top + rows.length * rowH + bottom;
    const plotW = W - left - right;
    const x = (t) => left + ((t - now) / (HORIZON * DAY)) * plotW;
    const yOf = (clientId) => top + rows.findIndex((r) => r.clientId === clientId) * rowH + rowH / 2;

    const root = svg('svg', { id: 'timeline', width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': 'chart-title timeline-desc' },
      svg('desc', { id: 'timeline-desc' }, `${inRange.length} secrets of ${rows.length} clients expire in the next 90 days.`));

    // Grid, ticks and the date axis.
    const axisY = top + rows.length * rowH;
    const step = narrow ? 30 : 15;
    const axis = svg('g', { class: 'axis x-axis' });
    for (let d = 0; d <= HORIZON; d += step) {
      const t = new Date(now.getTime() + d * DAY);
      const gx = x(t);
      axis.append(
        svg('line', { class: 'grid', x1: gx, y1: top, x2: gx, y2: axisY, stroke: '#c9c9cf', 'stroke-dasharray': d === 0 ? '' : '3 3' }),
        svg('text', { class: 'tick', x: gx, y: axisY + 16, 'text-anchor': 'middle' }, d === 0 ? 'Today' : dateLabel(t)),
        svg('text', { class: 'tick sub', x: gx, y: axisY + 29, 'text-anchor': 'middle' }, d === 0 ? dateLabel(t) : '+' + d + ' d'));
    }
    axis.append(svg('line', { x1: left, y1: axisY, x2: left + plotW, y2: axisY, stroke: '#1d1d1f' }),
      svg('text', { class: 'axis-title', x: left + plotW / 2, y: H - 8, 'text-anchor': 'middle' }, 'Expiration date (UTC), days from today'));
    root.append(axis);

    // One row per client, named on the left.
    const yAxis = svg('g', { class: 'axis y-axis' });
    const maxChars = Math.floor((left - 30) / 6.5); // room for the axis title
    for (const r of rows) {
      const y = yOf(r.clientId);
      const name = r.name.length > maxChars ? r.name.slice(0, maxChars - 1) + '…' : r.name;
      yAxis.append(svg('line', { x1: left, y1: y, x2: left + plotW, y2: y, stroke: '#ececf0' }),
        svg('text', { class: 'client-label', x: left - 8, y: y + 4, 'text-anchor': 'end', 'data-client-id': r.clientId }, svg('title', {}, r.name), name));
    }
    yAxis.append(svg('text', { class: 'axis-title', x: 12, y: top + (rows.length * rowH) / 2, 'text-anchor': 'middle', transform: `rotate(-90 12 ${top + (rows.length * rowH) / 2})` }, 'Client'));
    root.append(yAxis);

    // The marks.
    const marks = svg('g', { class: 'marks' });
    for (const i of inRange) {
      const days = daysLeft(i.expiration, now);
      const b = bucketOf(days);
      const cx = x(i.expiration), cy = yOf(i.clientId);
      const text = `${i.clientName}: secret ${i.description ? '"' + i.description + '" ' : ''}(${i.secretId}) expires ${isoDate(i.expiration)}, in ${days} day${days === 1 ? '' : 's'}`;
      marks.append(svg('g', {
        class: 'mark ' + b.id, 'data-secret-id': i.secretId, 'data-client-id': i.clientId, 'data-kind': i.kind,
        'data-expiration': isoDate(i.expiration), 'data-days': days, 'data-bucket': b.id, role: 'img', 'aria-label': text,
      }, svg('title', {}, text), shape(i.kind, cx, cy, b.fill),
      svg('text', { class: 'mark-label', x: cx, y: cy - 11, 'text-anchor': 'middle' }, days + ' d')));
    }
    root.append(marks);
    container.append(root);
    return inRange;
  }

  function swatch(kind, fill) {
    return svg('svg', { class: 'swatch', width: 20, height: 20, viewBox: '0 0 20 20', 'aria-hidden': 'true' }, shape(kind, 10, 10, fill));
  }

  // legend fills a list with what the shapes and fills mean.
  function legend(list) {
    const { el } = Portal;
    ensureDefs();
    list.replaceChildren(
      ...Object.entries(kinds).map(([k, v]) => el('li', { 'data-legend': k }, swatch(k, '#ffffff'), `${v.shape === 'diamond' ? 'Diamond' : 'Circle'}: ${v.label}`)),
      ...buckets.map((b) => el('li', { 'data-legend': b.id }, swatch('ClientCredential', b.fill), `${b.id === 'urgent' ? 'Solid' : b.id === 'soon' ? 'Hatched' : 'Outline'}: expires ${b.label}`)),
      el('li', { 'data-legend': 'label' }, 'The number over a mark is the days left.'));
  }

  return { render, legend, daysLeft, isoDate, HORIZON, DAY };
})();
