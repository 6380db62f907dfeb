/** What the middleware puts on the request: the user's valid upstream token and a fetch that uses it. */
export interface UpstreamContext {
  userId: string;
  connection: string;
  accessToken: string;
  /** `vault.fetch` for this user: attaches the token; on a 401 one refresh and one retry. */
  fetch(url: string | URL, init?: RequestInit): Promise<Response>;
}
