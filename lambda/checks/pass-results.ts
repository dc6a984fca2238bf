/**
 * PASS results, kept compact. A 5,000-namespace cluster yields about 90,000 results, nearly all
 * PASS, each with its own message (200 characters on average) and id: as plain findings they held
 * 45 MB of the function's 120 MB heap through the end of the checks and the whole delivery, and
 * the garbage collector spent about half of the checks' time tracing them.
 *
 * Here the results of one check share a {@link PassResults} store: the messages are kept in
 * blocks of {@link BLOCK_SIZE}, each block deflated (the wording of one check repeats, so a block
 * shrinks about tenfold) in a Buffer outside the JavaScript heap, and the id's hash in 8 bytes of
 * another Buffer. A PASS finding is still an ordinary object with every field of
 * {@link Finding}, in the same order: `id` and `message` are enumerable own accessors that read
 * the store, so property reads, spreading, JSON.stringify, Object.keys and deep equality see the
 * same data as before, and every renderer and the archive write the same bytes. Decoding keeps
 * the last block it decoded, so reading a check's results in order (the archive, a sorted report)
 * inflates each block once.
 */
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Finding, ResourceRef, Severity } from '../config/findings.js';

/** Messages per compressed block. */
export const BLOCK_SIZE = 256;

const HASH_BYTES = 8;

/** A compact finding's store and its index there (non-enumerable own properties). */
const STORE = Symbol('passStore');
const INDEX = Symbol('passIndex');

interface Compact {
  [STORE]: PassResults;
  [INDEX]: number;
}

/**
 * One getter per field for every store: V8 gives objects whose accessors differ from the ones
 * its hidden class was built with a dictionary of their own (400 bytes each) instead.
 */
const ID_ACCESSOR: PropertyDescriptor = {
  get(this: Compact) {
    return this[STORE].idOf(this[INDEX]);
  },
  enumerable: true,
  configurable: true,
};
const MESSAGE_ACCESSOR: PropertyDescriptor = {
  get(this: Compact) {
    return this[STORE].messageOf(this[INDEX]);
  },
  enumerable: true,
  configurable: true,
};

const STORE_DESCRIPTOR: PropertyDescriptor = { value: undefined };
const INDEX_DESCRIPTOR: PropertyDescriptor = { value: 0 };

export interface PassInput {
  checkId: string;
  cluster: string;
  severity: Severity;
  resource: ResourceRef;
  messageId: string;
  message: string;
  /** findingHash of the result: the id is `checkId:hash`. */
  hash: string;
  affected?: Finding['affected'];
}

export class PassResults {
  private readonly blocks: Buffer[] = [];
  private pending: string[] = [];
  private hashes = Buffer.allocUnsafe(HASH_BYTES * 64);
  private count = 0;
  private decoded: { block: number; messages: string[] } | undefined;

  constructor(readonly checkId: string) {}

  /** A PASS finding backed by this store, with the fields and key order of a plain one. */
  add(r: PassInput): Finding {
    const index = this.count++;
    this.pending.push(r.message);
    if (this.pending.length === BLOCK_SIZE) this.seal();
    if ((index + 1) * HASH_BYTES > this.hashes.length) {
      const grown = Buffer.allocUnsafe(this.hashes.length * 2);
      this.hashes.copy(grown);
      this.hashes = grown;
    }
    this.hashes.write(r.hash, index * HASH_BYTES, HASH_BYTES, 'hex');
    const f = {} as Record<string | symbol, unknown>;
    Object.defineProperty(f, 'id', ID_ACCESSOR);
    f.checkId = r.checkId;
    f.cluster = r.cluster;
    f.severity = r.severity;
    f.status = 'PASS';
    f.resource = r.resource;
    f.messageId = r.messageId;
    Object.defineProperty(f, 'message', MESSAGE_ACCESSOR);
    f.remediation = '';
    if (r.affected) f.affected = r.affected;
    // One descriptor object each, reused: defineProperty copies what it reads.
    STORE_DESCRIPTOR.value = this;
    Object.defineProperty(f, STORE, STORE_DESCRIPTOR);
    INDEX_DESCRIPTOR.value = index;
    Object.defineProperty(f, INDEX, INDEX_DESCRIPTOR);
    STORE_DESCRIPTOR.value = undefined;
    return f as unknown as Finding;
  }

  private seal(): void {
    // Level 1: as small as the default level on this repetitive text, at a seventh of the time.
    // Copied to its size: zlib returns a view of a 16 KB output buffer.
    const deflated = deflateRawSync(Buffer.from(JSON.stringify(this.pending), 'utf8'), {
      level: constants.Z_BEST_SPEED,
    });
    this.blocks.push(Buffer.from(deflated));
    this.pending = [];
  }

  idOf(index: number): string {
    return `${this.checkId}:${this.hashes.toString('hex', index * HASH_BYTES, (index + 1) * HASH_BYTES)}`;
  }

  messageOf(index: number): string {
    const block = Math.floor(index / BLOCK_SIZE);
    const at = index % BLOCK_SIZE;
    if (block === this.blocks.length) return this.pending[at]!;
    if (this.decoded?.block !== block) {
      const messages = JSON.parse(inflateRawSync(this.blocks[block]!).toString('utf8'));
      this.decoded = { block, messages: messages as string[] };
    }
    return this.decoded.messages[at]!;
  }
}

/** True for a finding kept by a {@link PassResults} store. */
export function isCompactPass(f: Finding): boolean {
  return Object.prototype.hasOwnProperty.call(f, INDEX);
}
