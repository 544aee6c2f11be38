// Second opinion on an exported Chrome trace, with node's own JSON.parse:
// B/E nest per thread, every flow step/end has its start. Prints a summary
// (event counts by ph) as JSON on stdout; exits 1 with a reason otherwise.
'use strict';
const fs = require('fs');
const doc = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const events = Array.isArray(doc) ? doc : doc.traceEvents;
if (!Array.isArray(events)) throw new Error('no traceEvents array');
const stacks = new Map();
const flows = new Set();
const byPh = {};
for (const e of events) {
  byPh[e.ph] = (byPh[e.ph] || 0) + 1;
  if (typeof e.ts !== 'number' || typeof e.pid !== 'number' || typeof e.tid !== 'number')
    throw new Error('bad ts/pid/tid in ' + JSON.stringify(e));
  const key = e.pid + ':' + e.tid;
  if (e.ph === 'B') {
    if (!stacks.has(key)) stacks.set(key, []);
    stacks.get(key).push(e.name);
  } else if (e.ph === 'E') {
    const s = stacks.get(key);
    if (!s || s.length === 0) throw new Error('E without B: ' + JSON.stringify(e));
    const name = s.pop();
    if (e.name !== undefined && e.name !== name)
      throw new Error(`E ${e.name} closes ${name} on ${key}`);
  } else if (e.ph === 's') {
    flows.add(e.cat + '/' + e.name + '/' + e.id);
  } else if (e.ph === 't' || e.ph === 'f') {
    if (!flows.has(e.cat + '/' + e.name + '/' + e.id))
      throw new Error('flow without start: ' + JSON.stringify(e));
  }
}
for (const [key, s] of stacks)
  if (s.length) throw new Error(`${key} ends with open slices ${s}`);
process.stdout.write(JSON.stringify(byPh));
