import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

describe('package exports', () => {
  it('serves the core and each adapter from its own subpath', async () => {
    const core = await import('@tessera/resource');
    const fastify = await import('@tessera/resource/fastify');
    const express = await import('@tessera/resource/express');
    assert.equal(typeof core.createResourceServer, 'function');
    assert.equal(typeof core.failureResponse, 'function');
    assert.equal(typeof fastify.tesseraResource, 'function');
    assert.equal(typeof express.createExpressAuth, 'function');
    assert.equal(!('tesseraResource' in core) && !('createExpressAuth' in core), true);
  });
});
