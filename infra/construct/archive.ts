import { Duration, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { RUNS_PREFIX } from '../../lambda/run/fleet/run.js';
import { groupingLayer } from './logical-ids.js';

export interface ArchiveProps {
  /** Default: a new versioned, encrypted bucket with server access logs and lifecycle rules. */
  bucket?: s3.IBucket;
}

/** Where reports (reports/) and each run's scratch (runs/) are kept. */
export class Archive extends Construct {
  readonly bucket: s3.IBucket;

  constructor(scope: Construct, id: string, props: ArchiveProps) {
    super(scope, id);
    groupingLayer(this);
    this.bucket = props.bucket ?? this.newBucket();
  }

  private newBucket(): s3.Bucket {
    const accessLogs = new s3.Bucket(this, 'ArchiveAccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(400) }],
    });
    Validations.of(accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This is the server-access-log bucket of the archive; logging its own access would only log the log deliveries.',
    });
    return new s3.Bucket(this, 'Archive', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'archive/',
      lifecycleRules: [
        {
          id: 'age-out-reports',
          transitions: [
            { storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(90) },
          ],
          expiration: Duration.days(400),
          // latest.json is overwritten every run: its old versions need not outlive a month.
          noncurrentVersionExpiration: Duration.days(30),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
        {
          // Cluster lists and per-cluster reports passed between the fleet steps of one run.
          id: 'expire-run-scratch',
          prefix: RUNS_PREFIX,
          expiration: Duration.days(7),
          noncurrentVersionExpiration: Duration.days(1),
        },
      ],
    });
  }
}
