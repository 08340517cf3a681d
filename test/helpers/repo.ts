// The repository's root directory, from a compiled test in dist/test/.
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../../', import.meta.url));
