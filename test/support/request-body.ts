/**
 * What an S3 test double receives as a PutObject body, as bytes: a string, bytes, or anything
 * iterable in chunks (a stream at the HTTP layer, the archive's ReplayableBody before it).
 */
export async function requestBodyBytes(body: unknown): Promise<Buffer> {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string' || body instanceof Uint8Array) return Buffer.from(body);
  if (typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
    const chunks: Buffer[] = [];
    for await (const c of body as AsyncIterable<Uint8Array | string>) chunks.push(Buffer.from(c));
    return Buffer.concat(chunks);
  }
  throw new Error(`unsupported request body: ${typeof body}`);
}
