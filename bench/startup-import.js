// A bare cold import of the module given as argv[2] (a file URL), timed from inside the process.
import { performance } from 'node:perf_hooks';

const t0 = performance.now();
await import(process.argv[2]);
const importMs = performance.now() - t0;
process.stdout.write(`${JSON.stringify({ importMs, rssAfterKB: process.memoryUsage.rss() / 1024 })}\n`);
