/* global require, exports, process, console */
/* eslint-disable @typescript-eslint/no-require-imports -- inline CommonJS Lambda code */
// Member side: gives the reader role an EKS access entry (group eks-datadog-auditor) on every
// cluster of the listed regions that carries all the given tags, as the auditor's discovery
// selects them. Inline Lambda code (CommonJS, the runtime's AWS SDK v3): the member template must
// stay self-contained for StackSets. Entries are only added; a cluster that loses its tags keeps its.
const eks = require('@aws-sdk/client-eks');

function matches(clusterTags, wanted) {
  return Object.entries(wanted).every(([k, v]) => clusterTags[k] === v);
}

async function syncRegion(client, opts, region, out) {
  let nextToken;
  do {
    const page = await client.send(new eks.ListClustersCommand({ nextToken }));
    for (const name of page.clusters || []) {
      const where = `${region}/${name}`;
      try {
        const { cluster } = await client.send(new eks.DescribeClusterCommand({ name }));
        if (!matches(cluster.tags || {}, opts.tags)) continue;
        if ((cluster.accessConfig || {}).authenticationMode === 'CONFIG_MAP') {
          out.skipped.push(
            `${where}: authentication mode CONFIG_MAP has no access entries; map the role in aws-auth`,
          );
          continue;
        }
        await client.send(
          new eks.CreateAccessEntryCommand({
            clusterName: name,
            principalArn: opts.principalArn,
            kubernetesGroups: [opts.group],
            type: 'STANDARD',
          }),
        );
        out.created.push(where);
      } catch (err) {
        if (err.name === 'ResourceInUseException') out.present.push(where);
        else out.failed.push(`${where}: ${err.name}: ${err.message}`);
      }
    }
    nextToken = page.nextToken;
  } while (nextToken);
}

/** `clientFor(region)` returns an EKS client; one failing cluster never stops the others. */
async function sync(clientFor, opts) {
  const out = { created: [], present: [], skipped: [], failed: [] };
  for (const region of opts.regions) await syncRegion(clientFor(region), opts, region, out);
  if (out.failed.length > 0) {
    throw new Error(`Access entries not created: ${out.failed.join('; ')}`);
  }
  return out;
}

exports.sync = sync;
exports.handler = async () => {
  const opts = JSON.parse(process.env.SYNC_OPTIONS);
  const result = await sync((region) => new eks.EKSClient({ region }), opts);
  console.log(JSON.stringify(result));
  return result;
};
