import { TesseraError } from '@tessera/protocol';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TesseraContext } from '../domain/context.js';
import { DPOP_NONCE_REPLY_HEADER, dpopHeaderValues, verifyDpopProof } from '../dpop/verify-dpop-proof.js';
import type { ClientRecord } from '../ports/index.js';

/**
 * The DPoP proof of a token request, verified for `client` at `path`: the thumbprint of its key,
 * or `undefined` when the request carries none and the client does not need one. The `htu` a
 * proof must name is the issuer (the server's public URL, which carries a mount prefix) plus the
 * path, never a URL built from the request's `Host` or forwarding headers, which the client
 * chooses. A client added with `--dpop-nonce` gets the current nonce in `DPoP-Nonce` on every
 * answer, errors included, so its `use_dpop_nonce` retry has one to use. `optional`: a route
 * where even such a client may come without a proof (revocation, which needs one only for a
 * bound token).
 */
export async function dpopProofOf(
  ctx: TesseraContext<'replay'>,
  request: FastifyRequest,
  reply: FastifyReply,
  client: ClientRecord,
  path: string,
  options: { optional?: boolean } = {},
): Promise<string | undefined> {
  const requireNonce = client.dpopNonce === true;
  if (requireNonce) reply.header(DPOP_NONCE_REPLY_HEADER, ctx.dpopNonces.current(ctx.clock.now()));
  const proof = await verifyDpopProof(ctx, {
    header: dpopHeaderValues(request.raw.rawHeaders),
    htm: request.method,
    htu: `${ctx.config.issuer}${path}`,
    requireNonce,
  });
  if (proof === undefined && client.dpop === true && options.optional !== true) {
    throw new TesseraError(
      'invalid_dpop_proof',
      'This client must send a DPoP proof with every token request',
    );
  }
  return proof?.jkt;
}
