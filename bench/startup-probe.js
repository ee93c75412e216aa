// Preloaded (`node --import`) into a start-up measurement: on exit, writes this process's peak RSS
// (kernel high-water mark) and its time since the process started to stderr as one marked line.
import { writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

process.on('exit', () => {
  const peakRssKB = process.resourceUsage().maxRSS;
  writeSync(2, `\nexai-bench-probe ${JSON.stringify({ peakRssKB, upMs: performance.now() })}\n`);
});
