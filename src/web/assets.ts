import { fileURLToPath } from 'node:url';

/** The folder of the pages' static files (the stylesheet): src/web/assets, or dist/web/assets once built. */
export const ASSETS_DIR = fileURLToPath(new URL('./assets/', import.meta.url));
