// Provider registry.
import type { ProviderName } from '../types.js';
import { glm } from './glm.js';
import { kimi } from './kimi.js';
import type { Provider } from './provider.js';

export const PROVIDERS: Record<ProviderName, Provider> = { glm, kimi };
export type { Provider } from './provider.js';
