import { z } from 'zod';
import { createEksToken } from '../../lambda/collect/aws/eks-token.js';
import { execCredential } from '../../lambda/collect/aws/exec-credential.js';

/**
 * ExecCredential as documented for client.authentication.k8s.io/v1beta1
 * (https://kubernetes.io/docs/reference/config-api/client-authentication.v1beta1/): kubectl needs
 * status.token (or a client certificate pair) and reads expirationTimestamp as RFC 3339.
 */
const execCredentialV1beta1 = z
  .object({
    apiVersion: z.literal('client.authentication.k8s.io/v1beta1'),
    kind: z.literal('ExecCredential'),
    spec: z
      .object({
        cluster: z.record(z.string(), z.unknown()).optional(),
        interactive: z.boolean().optional(),
      })
      .strict(),
    status: z
      .object({
        expirationTimestamp: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
        token: z.string().min(1).optional(),
        clientCertificateData: z.string().optional(),
        clientKeyData: z.string().optional(),
      })
      .strict()
      .refine((s) => s.token || (s.clientCertificateData && s.clientKeyData), {
        message: 'status needs a token or a client certificate and key',
      }),
  })
  .strict();

describe('execCredential', () => {
  it('matches the documented v1beta1 ExecCredential schema, as JSON on stdout', async () => {
    const { token, expiresAt } = await createEksToken({
      clusterName: 'field-report',
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      now: () => new Date('2026-11-24T02:00:00.000Z'),
    });
    const printed = JSON.parse(JSON.stringify(execCredential(token, expiresAt)));

    expect(execCredentialV1beta1.safeParse(printed).error?.issues).toBeUndefined();
    expect(printed.status.token).toBe(token);
  });

  it('writes expirationTimestamp like aws eks get-token: RFC 3339, UTC, no fractional seconds', () => {
    const cred = execCredential('k8s-aws-v1.x', new Date('2026-11-24T02:14:00.123Z'));
    expect(cred.status.expirationTimestamp).toBe('2026-11-24T02:14:00Z');
    expect(cred.spec).toEqual({});
  });
});
