/**
 * `/assets/map.js`: the service map from `GET /api/v1/map`, every 10 s. Nodes are laid out in columns by depth
 * (a service nobody consumes on the left, each provider one column right of its deepest consumer; cycles stop at the
 * number of nodes), edges are arrows from consumer to provider with their figures as a label. Values are text nodes.
 */
export const MAP_SCRIPT = `'use strict';
(() => {
  const { $, say, api, cell } = window.dashboard;
  const SVG = 'http://www.w3.org/2000/svg';
  const NODE_W = 230, NODE_H = 66, GAP_X = 170, GAP_Y = 40, PAD = 20;
  const percent = (value) => (value * 100).toFixed(1) + '%';
  const rate = (calls, windowMs) => (calls / (windowMs / 1000)).toFixed(3);
  const errorRate = (item) => (item.calls === 0 ? 0 : item.errors / item.calls);
  const figures = (item, windowMs) =>
    item.calls + ' calls · ' + rate(item.calls, windowMs) + '/s · ' + percent(errorRate(item)) + ' errors · p95 ' + item.p95Ms.toFixed(1) + ' ms';

  function element(name, attributes, text) {
    const node = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** Depth of each node: 0 for those nobody consumes, else one more than its deepest consumer. */
  function depths(nodes, edges) {
    const depth = new Map(nodes.map((node) => [node.name, 0]));
    for (let round = 0; round < nodes.length; round++) {
      let changed = false;
      for (const edge of edges) {
        const next = (depth.get(edge.from) || 0) + 1;
        if (edge.from !== edge.to && next > (depth.get(edge.to) || 0) && next < nodes.length) {
          depth.set(edge.to, next);
          changed = true;
        }
      }
      if (!changed) break;
    }
    return depth;
  }

  function draw(map) {
    const svg = $('map');
    svg.replaceChildren();
    $('empty').hidden = map.nodes.length > 0;
    const depth = depths(map.nodes, map.edges);
    const rows = new Map();
    const at = new Map();
    for (const node of map.nodes) {
      const column = depth.get(node.name) || 0;
      const row = rows.get(column) || 0;
      rows.set(column, row + 1);
      at.set(node.name, { x: PAD + column * (NODE_W + GAP_X), y: PAD + row * (NODE_H + GAP_Y) });
    }
    const width = PAD * 2 + (Math.max(0, ...depth.values()) + 1) * (NODE_W + GAP_X) - GAP_X;
    const height = PAD * 2 + Math.max(1, ...rows.values()) * (NODE_H + GAP_Y) - GAP_Y;
    svg.setAttribute('viewBox', '0 0 ' + width + ' ' + height);
    svg.setAttribute('width', String(width));
    svg.setAttribute('height', String(height));
    const defs = element('defs', {});
    const marker = element('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 8, markerHeight: 8, orient: 'auto-start-reverse' });
    marker.append(element('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#667' }));
    defs.append(marker);
    svg.append(defs);
    for (const edge of map.edges) {
      const from = at.get(edge.from), to = at.get(edge.to);
      if (!from || !to) continue;
      const group = element('g', { class: 'edge', 'data-edge': edge.from + '->' + edge.to });
      const x1 = from.x + NODE_W, y1 = from.y + NODE_H / 2, x2 = to.x, y2 = to.y + NODE_H / 2;
      group.append(element('line', { x1, y1, x2, y2, stroke: edge.errors > 0 ? '#d83b3b' : '#667', 'stroke-width': 1.5, 'marker-end': 'url(#arrow)' }));
      group.append(element('text', { x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 16, 'text-anchor': 'middle', class: 'edge-service' }, edge.service));
      group.append(element('text', { x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 4, 'text-anchor': 'middle', class: 'edge-figures' }, figures(edge, map.windowMs)));
      svg.append(group);
    }
    for (const node of map.nodes) {
      const { x, y } = at.get(node.name);
      const group = element('g', { class: 'node' + (node.external ? ' external' : ''), 'data-node': node.name });
      group.append(element('rect', { x, y, width: NODE_W, height: NODE_H, rx: 6, fill: node.external ? '#f4f4f6' : '#eef3fc', stroke: node.errors > 0 ? '#d83b3b' : '#3b6fd8' }));
      group.append(element('text', { x: x + 10, y: y + 20, class: 'node-name' }, node.name + (node.external ? ' (not in this workspace)' : '')));
      group.append(element('text', { x: x + 10, y: y + 38, class: 'node-serves' }, node.serves.join(', ')));
      group.append(element('text', { x: x + 10, y: y + 56, class: 'node-figures' }, figures(node, map.windowMs)));
      svg.append(group);
    }
    const nodes = $('nodes').tBodies[0];
    nodes.replaceChildren();
    for (const node of map.nodes) {
      const row = document.createElement('tr');
      for (const value of [node.name, node.serves.join(', '), node.calls, rate(node.calls, map.windowMs), percent(errorRate(node)), node.p95Ms.toFixed(2)]) cell(row, value);
      nodes.append(row);
    }
    const edges = $('edges').tBodies[0];
    edges.replaceChildren();
    for (const edge of map.edges) {
      const row = document.createElement('tr');
      for (const value of [edge.from, edge.to, edge.service, edge.calls, rate(edge.calls, map.windowMs), percent(errorRate(edge)), edge.p95Ms.toFixed(2)]) cell(row, value);
      edges.append(row);
    }
  }

  async function load() {
    try {
      draw(await api('map?window=' + encodeURIComponent($('window').value)));
      say('');
    } catch (error) {
      say('cannot load the map: ' + error.message);
    }
  }

  $('window').addEventListener('change', load);
  void load();
  setInterval(load, 10000);
})();
`;
