// A local GLM/Kimi Chat Completions server with deterministic answers and scriptable faults,
// for tests, the demo, benchmarks and `exai emulator`.
export { type EmulatorAnswer, emulatorAnswer, type FinishReason } from './answer.js';
export type { Emulator, EmulatorEvents, EmulatorOptions, Outcome, RequestRecord } from './api.js';
export type { FaultOverrides, FaultSpec, FaultType } from './faults.js';
export { startEmulator } from './server.js';
export { tokenize } from './text.js';
