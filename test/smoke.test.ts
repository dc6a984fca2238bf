import { KubeConfig } from '@kubernetes/client-node';

describe('toolchain', () => {
  it('runs on the Lambda runtime major and imports the ESM-only Kubernetes client', () => {
    expect(process.versions.node.split('.')[0]).toBe('22');
    expect(typeof new KubeConfig().loadFromOptions).toBe('function');
  });
});
