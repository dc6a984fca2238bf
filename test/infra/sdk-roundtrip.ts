/**
 * Sends one EC2 (query/XML) and one EKS (REST/JSON) request through canned HTTP answers and prints
 * what was sent and what was parsed: bundled with and without the bundling plugins by
 * test/infra/bundling.test.ts, the two outputs must be identical.
 */
import { Readable } from 'node:stream';
import { EC2Client, DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { EKSClient, DescribeClusterCommand } from '@aws-sdk/client-eks';
import { HttpResponse, type HttpRequest } from '@smithy/protocol-http';
const xml = `<?xml version="1.0" encoding="UTF-8"?><DescribeSecurityGroupsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><securityGroupInfo><item><ownerId>1</ownerId><groupId>sg-1</groupId><groupName>n</groupName><groupDescription>d</groupDescription><vpcId>vpc-1</vpcId><ipPermissions><item><ipProtocol>tcp</ipProtocol><fromPort>5005</fromPort><toPort>5005</toPort><groups><item><groupId>sg-2</groupId><userId>1</userId></item></groups><ipRanges><item><cidrIp>10.0.0.0/16</cidrIp><description>x</description></item></ipRanges><ipv6Ranges/><prefixListIds/></item></ipPermissions><ipPermissionsEgress/><tagSet><item><key>k</key><value>v</value></item></tagSet></item></securityGroupInfo></DescribeSecurityGroupsResponse>`;
const json = JSON.stringify({
  cluster: {
    name: 'c',
    arn: 'arn:aws:eks:eu-west-1:1:cluster/c',
    createdAt: 1700000000,
    resourcesVpcConfig: {
      subnetIds: ['s1'],
      clusterSecurityGroupId: 'sg-c',
      endpointPrivateAccess: true,
    },
    certificateAuthority: { data: 'Q0E=' },
    accessConfig: { authenticationMode: 'API' },
    tags: { a: 'b' },
  },
});
let sent = '';
const handler = (body: string, type: string) => ({
  handle: async (req: HttpRequest) => {
    sent += `${req.method} ${req.path} ${typeof req.body === 'string' ? req.body : ''}\n`;
    return {
      response: new HttpResponse({
        statusCode: 200,
        headers: { 'content-type': type },
        body: Readable.from([Buffer.from(body)]),
      }),
    };
  },
});
const creds = { accessKeyId: 'a', secretAccessKey: 'b' };
const ec2 = new EC2Client({
  region: 'eu-west-1',
  credentials: creds,
  requestHandler: handler(xml, 'text/xml'),
});
const eks = new EKSClient({
  region: 'eu-west-1',
  credentials: creds,
  requestHandler: handler(json, 'application/json'),
});
const a = await ec2.send(
  new DescribeSecurityGroupsCommand({
    GroupIds: ['sg-1'],
    Filters: [{ Name: 'vpc-id', Values: ['vpc-1'] }],
  }),
);
const b = await eks.send(new DescribeClusterCommand({ name: 'c' }));
// $metadata carries timing; what was parsed is the rest.
const { $metadata: _a, ...parsedEc2 } = a;
const { $metadata: _b, ...parsedEks } = b;
console.log(JSON.stringify({ parsedEc2, parsedEks, sent }));
