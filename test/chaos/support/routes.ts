import type { FastifyInstance } from 'fastify';

/** A route the server serves: its method and its path as registered (`:id` for a parameter). */
export interface Route {
  method: string;
  path: string;
  /** The path's parameters, in order (`['id']` for `/admin/api/sessions/:id/revoke`). */
  params: string[];
}

/**
 * Every route the app serves, read from Fastify's own route tree (`printRoutes`), so a route
 * added tomorrow (under `/admin/api` or anywhere) is covered without editing a list. HEAD and
 * OPTIONS are left out (the fuzz sends them to every path anyway).
 *
 * The tree nests a route under the longest path it shares with another (`/admin/api/session`,
 * then `s`, then `/:id`): a line's column says whose child it is, so a full path is the
 * segments of its parents joined.
 */
export async function servedRoutes(app: FastifyInstance): Promise<Route[]> {
  await app.ready();
  const tree = app.printRoutes({ commonPrefix: false });
  const routes: Route[] = [];
  const parents: { column: number; path: string }[] = [];
  for (const line of tree.split('\n')) {
    const match = /(?<=── )(\S+)(?: \(([A-Z, ]+)\))?/.exec(line);
    if (!match) continue;
    while (parents.length > 0 && parents[parents.length - 1]!.column >= match.index) parents.pop();
    const path = (parents[parents.length - 1]?.path ?? '') + match[1]!;
    parents.push({ column: match.index, path });
    for (const method of match[2]?.split(', ') ?? []) {
      if (method === 'HEAD' || method === 'OPTIONS') continue;
      routes.push({ method, path, params: [...path.matchAll(/:([A-Za-z_]\w*)/g)].map((m) => m[1]!) });
    }
  }
  if (routes.length === 0) throw new Error(`no route read from the tree:\n${tree}`);
  return routes;
}

/** `path` with each `:param` replaced by what `value` gives it (already URL-encoded). */
export function fillPath(route: Route, value: (param: string, index: number) => string): string {
  let i = 0;
  return route.path.replace(/:([A-Za-z_]\w*)/g, (_, name: string) => value(name, i++));
}
