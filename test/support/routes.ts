import type { Express } from 'express';

/** The routes an express app declares, as `method path` (lower-case method, express's `:param`). */
export function declaredRoutes(app: Express): string[] {
  const stack = (app as unknown as { router: { stack: Array<{ route?: { path: string; methods: object } }> } }).router
    .stack;
  return stack
    .filter((layer) => layer.route)
    .flatMap((layer) => Object.keys(layer.route!.methods).map((method) => `${method} ${layer.route!.path}`));
}
