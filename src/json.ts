// One view of parsed JSON for the code that reads it (provider adapters, the emulator): an object
// is a non-null, non-array object.
export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
