import type { CallStatsJson, MapEdgeJson, MapJson, MapNodeJson } from '@grpcforge/runtime/vocabulary';
import { $, api, cell, messageOf, type CellValue, reloadEvery10s, say, tableBody } from './common.js';

/**
 * `/assets/map.js`: the service map from `GET /api/v1/map`, every 10 s. Nodes are laid out in columns by depth
 * (a service nobody consumes on the left, each provider one column right of its deepest consumer; cycles stop at the
 * number of nodes), edges are arrows from consumer to provider with their figures as a label. Labels are measured: a
 * node is as wide as its longest line, and each edge leaves its consumer horizontally under its label, through a lane
 * as wide as the widest label of that column, before it turns to its provider, so no label is clipped by the SVG or
 * crossed by an arrow. Values are text nodes.
 */

const SVG = 'http://www.w3.org/2000/svg';
/** Least node size, gaps, the text's inset in a node (px). */
const NODE_W = 230;
const NODE_H = 66;
const GAP_Y = 40;
const PAD = 20;
const TEXT_X = 10;
/**
 * A label's inset in its lane, the arrows' run past the lane, the gap of columns no edge leaves, a label's line
 * height, and the distance of a node's leaving ports (a label of two lines fits above each), in px.
 */
const LABEL_PAD = 8;
const RUN = 60;
const MIN_GAP = 120;
const LINE = 14;
const PORT_GAP = 38;
const percent = (value: number) => `${(value * 100).toFixed(1)}%`;
const rate = (calls: number, windowMs: number) => (calls / (windowMs / 1000)).toFixed(3);
const errorRate = (item: CallStatsJson) => (item.calls === 0 ? 0 : item.errors / item.calls);
const figures = (item: CallStatsJson, windowMs: number) =>
  `${item.calls} calls · ${rate(item.calls, windowMs)}/s · ${percent(errorRate(item))} errors · p95 ${item.p95Ms.toFixed(1)} ms`;

function element(name: string, attributes: Readonly<Record<string, string | number>>, text?: string): SVGElement {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Depth of each node: 0 for those nobody consumes, else one more than its deepest consumer. */
function depths(nodes: readonly MapNodeJson[], edges: readonly MapEdgeJson[]) {
  const depth = new Map(nodes.map((node) => [node.name, 0]));
  for (let round = 0; round < nodes.length; round++) {
    let changed = false;
    for (const edge of edges) {
      const next = (depth.get(edge.from) ?? 0) + 1;
      if (edge.from !== edge.to && next > (depth.get(edge.to) ?? 0) && next < nodes.length) {
        depth.set(edge.to, next);
        changed = true;
      }
    }
    if (!changed) break;
  }
  return depth;
}

/** Where a node is drawn. */
interface Box {
  readonly x: number;
  readonly y: number;
  readonly height: number;
  readonly column: number;
}

/** The value of `map` at `key`, which the layout put there. */
function at<K, V>(map: ReadonlyMap<K, V>, key: K): V {
  const value = map.get(key);
  if (value === undefined) throw new Error('the map layout lost an entry');
  return value;
}

/** The entry `index` of a per-column list (0 when past its end). */
const of = (list: readonly number[], index: number) => list[index] ?? 0;

function draw(map: MapJson) {
  const svg = $('map', SVGSVGElement);
  svg.replaceChildren();
  $('empty').hidden = map.nodes.length > 0;
  const depth = depths(map.nodes, map.edges);
  const names = new Set(map.nodes.map((node) => node.name));
  const drawn = map.edges.filter((edge) => names.has(edge.from) && names.has(edge.to));
  // The texts first, in the SVG, so they are measured in the page's fonts; they are placed once the layout is known.
  const text = (className: string, value: string) => {
    const node = element('text', { class: className }, value) as SVGTextElement;
    svg.append(node);
    return node;
  };
  const nodeTexts = new Map(
    map.nodes.map((node) => [
      node.name,
      [
        text('node-name', node.name + (node.external ? ' (not in this workspace)' : '')),
        text('node-serves', node.serves.join(', ')),
        text('node-figures', figures(node, map.windowMs)),
      ],
    ]),
  );
  const edgeTexts = new Map(
    drawn.map((edge) => [edge, [text('edge-service', edge.service), text('edge-figures', figures(edge, map.windowMs))] as const]),
  );
  const widest = (texts: readonly SVGTextElement[]) =>
    Math.ceil(Math.max(0, ...texts.map((node) => node.getComputedTextLength())));
  const nodeW = Math.max(NODE_W, ...[...nodeTexts.values()].map((texts) => widest(texts) + 2 * TEXT_X));
  const outgoing = new Map(map.nodes.map((node) => [node.name, drawn.filter((edge) => edge.from === node.name)]));
  const incoming = new Map(map.nodes.map((node) => [node.name, drawn.filter((edge) => edge.to === node.name)]));
  // Each column's label lane: the widest label of the edges leaving it; the arrows leave it horizontally under their
  // labels, then run to their providers past the lane, so no arrow crosses a label.
  const columns = Math.max(0, ...depth.values()) + 1;
  const lane = Array.from({ length: columns }, () => 0);
  for (const edge of drawn) {
    const column = depth.get(edge.from) ?? 0;
    lane[column] = Math.max(of(lane, column), widest(at(edgeTexts, edge)) + 2 * LABEL_PAD);
  }
  const gap = lane.map((width) => (width > 0 ? width + RUN : MIN_GAP));
  const columnX = [PAD];
  for (let column = 1; column < columns; column++) columnX.push(of(columnX, column - 1) + nodeW + of(gap, column - 1));
  // A node is tall enough for one label per edge leaving it, each over its own port.
  const boxes = new Map<string, Box>();
  const bottom = Array.from({ length: columns }, () => PAD);
  for (const node of map.nodes) {
    const column = depth.get(node.name) ?? 0;
    const height = Math.max(NODE_H, at(outgoing, node.name).length * PORT_GAP + 10);
    boxes.set(node.name, { x: of(columnX, column), y: of(bottom, column), height, column });
    bottom[column] = of(bottom, column) + height + GAP_Y;
  }
  const last = columns - 1;
  const width = of(columnX, last) + nodeW + (of(lane, last) > 0 ? of(gap, last) : 0) + PAD;
  const height = Math.max(...bottom) - GAP_Y + PAD;
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  const defs = element('defs', {});
  const marker = element('marker', {
    id: 'arrow',
    viewBox: '0 0 10 10',
    refX: 10,
    refY: 5,
    markerWidth: 8,
    markerHeight: 8,
    orient: 'auto-start-reverse',
  });
  marker.append(element('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#667' }));
  defs.append(marker);
  svg.prepend(defs);
  // Ports: leaving edges one under the other (in the order of their providers), arriving ones spread over the side.
  const sourceY = new Map<MapEdgeJson, number>();
  const targetY = new Map<MapEdgeJson, number>();
  const byPosition = (a: Box, b: Box) => a.y - b.y || a.x - b.x;
  for (const node of map.nodes) {
    const box = at(boxes, node.name);
    [...at(outgoing, node.name)]
      .sort((a, b) => byPosition(at(boxes, a.to), at(boxes, b.to)))
      .forEach((edge, index) => sourceY.set(edge, box.y + (index + 1) * PORT_GAP));
  }
  for (const node of map.nodes) {
    const box = at(boxes, node.name);
    const arriving = [...at(incoming, node.name)].sort((a, b) => at(sourceY, a) - at(sourceY, b));
    arriving.forEach((edge, index) => targetY.set(edge, box.y + (box.height * (index + 1)) / (arriving.length + 1)));
  }
  for (const edge of drawn) {
    const from = at(boxes, edge.from);
    const to = at(boxes, edge.to);
    const group = element('g', { class: 'edge', 'data-edge': `${edge.from}->${edge.to}` });
    const [x1, y1, x2, y2] = [from.x + nodeW, at(sourceY, edge), to.x, at(targetY, edge)];
    const laneEnd = x1 + of(lane, from.column);
    group.append(
      element('path', {
        d: `M ${x1} ${y1} H ${laneEnd} L ${x2} ${y2}`,
        fill: 'none',
        stroke: edge.errors > 0 ? '#d83b3b' : '#667',
        'stroke-width': 1.5,
        'marker-end': 'url(#arrow)',
      }),
    );
    const [service, numbers] = at(edgeTexts, edge);
    service.setAttribute('x', String(x1 + LABEL_PAD));
    service.setAttribute('y', String(y1 - 6 - LINE));
    numbers.setAttribute('x', String(x1 + LABEL_PAD));
    numbers.setAttribute('y', String(y1 - 6));
    group.append(service, numbers);
    svg.append(group);
  }
  for (const node of map.nodes) {
    const { x, y, height } = at(boxes, node.name);
    const group = element('g', { class: `node${node.external ? ' external' : ''}`, 'data-node': node.name });
    group.append(
      element('rect', {
        x,
        y,
        width: nodeW,
        height,
        rx: 6,
        fill: node.external ? '#f4f4f6' : '#eef3fc',
        stroke: node.errors > 0 ? '#d83b3b' : '#3b6fd8',
      }),
    );
    at(nodeTexts, node.name).forEach((line, index) => {
      line.setAttribute('x', String(x + TEXT_X));
      line.setAttribute('y', String(y + 20 + index * 18));
      group.append(line);
    });
    svg.append(group);
  }
  // The same numbers as tables: the window's calls, rate, error rate and p95 of each node and edge.
  const figuresOf = (item: CallStatsJson) => [
    item.calls,
    rate(item.calls, map.windowMs),
    percent(errorRate(item)),
    item.p95Ms.toFixed(2),
  ];
  fillTable(
    'nodes',
    map.nodes.map((node) => [node.name, node.serves.join(', '), ...figuresOf(node)]),
  );
  fillTable(
    'edges',
    map.edges.map((edge) => [edge.from, edge.to, edge.service, ...figuresOf(edge)]),
  );
}

/** Replaces the rows of table `#id` with one row of cells per entry of `rows`. */
function fillTable(id: string, rows: readonly (readonly CellValue[])[]) {
  tableBody(id).replaceChildren(
    ...rows.map((values) => {
      const row = document.createElement('tr');
      for (const value of values) cell(row, value);
      return row;
    }),
  );
}

async function load() {
  try {
    draw(await api<MapJson>(`map?window=${encodeURIComponent($('window', HTMLSelectElement).value)}`));
    say('');
  } catch (error) {
    say(`cannot load the map: ${messageOf(error)}`);
  }
}

reloadEvery10s(load, $('window'));
