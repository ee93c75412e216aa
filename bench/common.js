// Constants and helpers every bench module shares (no imports of the libraries under test).
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The built library; EXAI_BENCH_DIST points at another build (e.g. a patched copy) for A/B runs. */
export const distModule = (file) =>
  pathToFileURL(
    resolve(process.env.EXAI_BENCH_DIST ?? fileURLToPath(new URL('../dist', import.meta.url)), file),
  ).href;

export const MODEL = 'glm-4.5-flash';

/** Milliseconds on the clock the emulator stamps `x_emulator_sent_at` with. */
export const wallNow = () => performance.timeOrigin + performance.now();

/** The request body every consumer sends (the emulator's answer depends on model + messages only). */
export const messagesFor = (prompt) => [{ role: 'user', content: prompt }];
