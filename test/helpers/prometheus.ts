import assert from 'node:assert/strict';

/** One sample of a Prometheus scrape: metric name, labels, value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Fetches and parses the Prometheus text exposition format (version 0.0.4): `name{label="value",...} value`. */
export async function scrape(url: string): Promise<Sample[] & { units: Map<string, string> }> {
  const response = await fetch(url);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
  const text = await response.text();
  const samples = Object.assign([] as Sample[], { units: new Map<string, string>() });
  for (const line of text.split('\n')) {
    const unit = /^# UNIT (\S+) (\S+)$/.exec(line);
    if (unit) samples.units.set(unit[1]!, unit[2]!);
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/.exec(line);
    assert.ok(match, `not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[label[1]!] = label[2]!.replace(/\\(.)/g, (_, char: string) => (char === 'n' ? '\n' : char));
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The `_count` of the server duration series whose labels include `labels`, summed. */
export function countOf(samples: readonly Sample[], labels: Record<string, string>): number {
  return samples
    .filter((s) => s.name === 'rpc_server_call_duration_count')
    .filter((s) => Object.entries(labels).every(([key, value]) => s.labels[key] === value))
    .reduce((sum, s) => sum + s.value, 0);
}
