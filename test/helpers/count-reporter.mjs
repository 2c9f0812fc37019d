// A node:test reporter that writes one JSON line of counts: { "passed", "failed", "skipped", "todo" }, counting tests
// and subtests but not suites. Tests that run a nested `node --test` read these counts instead of the text a built-in
// reporter prints, which differs between Node versions (Node 20 pipes TAP, Node 23 and later the spec reporter).
/** @param {AsyncIterable<{ type: string, data: { skip?: unknown, todo?: unknown, details?: { type?: string } } }>} source */
export default async function* countReporter(source) {
  const counts = { passed: 0, failed: 0, skipped: 0, todo: 0 };
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    if (event.data.details?.type === 'suite') continue;
    if (event.type === 'test:fail') counts.failed++;
    else if (event.data.skip) counts.skipped++;
    else if (event.data.todo) counts.todo++;
    else counts.passed++;
  }
  yield `${JSON.stringify(counts)}\n`;
}
