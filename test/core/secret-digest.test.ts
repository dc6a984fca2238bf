import {
  digestSecret,
  digestsEqual,
  isSensitiveName,
} from '../../lambda/snapshot/secret-digest.js';

describe('secret digests', () => {
  it('keeps the sha256, length and shape flags but not the value', () => {
    const d = digestSecret('CANARY-value-1234');
    expect(d).toEqual({
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      length: 17,
      flags: { leadingWhitespace: false, trailingWhitespace: false, nonPrintable: false },
    });
    expect(JSON.stringify(d)).not.toContain('CANARY');
  });

  it.each([
    ['a trailing newline', 'token\n', { trailingWhitespace: true }],
    ['a leading space', ' token', { leadingWhitespace: true }],
    ['a NUL byte', 'tok\u0000en', { nonPrintable: true }],
    ['invalid UTF-8', Buffer.from([0xff, 0xfe]), { nonPrintable: true }],
  ])('flags %s', (_n, value, flags) => {
    expect(digestSecret(value as string).flags).toMatchObject(flags);
  });

  it('compares digests by value and treats a missing digest as unequal', () => {
    expect(digestsEqual(digestSecret('a'), digestSecret('a'))).toBe(true);
    expect(digestsEqual(digestSecret('a'), digestSecret('b'))).toBe(false);
    expect(digestsEqual(digestSecret('a'), undefined)).toBe(false);
  });

  it.each(['DD_CLUSTER_AGENT_AUTH_TOKEN', 'DD_API_KEY', 'DD_APP_KEY', 'DB_PASSWORD'])(
    'treats %s as sensitive',
    (n) => {
      expect(isSensitiveName(n)).toBe(true);
    },
  );
  it.each(['DD_EKS_FARGATE', 'DD_CLUSTER_AGENT_URL', 'DD_KUBERNETES_KUBELET_NODENAME'])(
    'treats %s as plain',
    (n) => {
      expect(isSensitiveName(n)).toBe(false);
    },
  );
});
