// Where `require('exai')` lands on a Node.js that cannot require an ES module (before 20.19 and
// 22.12, or with --no-experimental-require-module): one clear sentence instead of Node's
// misleading `No "exports" main defined`.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const recent = major > 22 || (major === 22 && minor >= 12) || (major === 20 && minor >= 19);
const why = recent
  ? `this Node.js (${process.version}) has require(esm) switched off (--no-experimental-require-module)`
  : `it needs Node.js 20.19+ or 22.12+ (this is ${process.version})`;
throw new Error(
  `exai is an ES module and require('exai') cannot load it: ${why}. ` +
    "Use import { createClient } from 'exai' (or await import('exai')) instead.",
);
