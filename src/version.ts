// The package version, read once from package.json (one level above both src/ and dist/).
import { createRequire } from 'node:module';

const pkg = createRequire(import.meta.url)('../package.json') as { name: string; version: string };

export const NAME: string = pkg.name;
export const VERSION: string = pkg.version;
