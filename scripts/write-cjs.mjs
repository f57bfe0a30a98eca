// Writes the CommonJS entry: `require('koa-session-machine')` returns the callable factory, with
// every named export on it. Node >= 20.19 can require() the ES module build, so there is one copy
// of the code (no dual-package hazard: one MemoryStore class, one machine).
import { mkdirSync, writeFileSync } from 'node:fs';

const dir = new URL('../dist/cjs/', import.meta.url);
mkdirSync(dir, { recursive: true });
writeFileSync(
  new URL('index.cjs', dir),
  `'use strict';
const esm = require('../index.js');
module.exports = Object.assign(esm.default, esm, { default: esm.default });
`,
);
writeFileSync(new URL('index.d.cts', dir), `import session = require('../index.js');\nexport = session;\n`);
