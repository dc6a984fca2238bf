/** Kubernetes JSON as the API server sends it: untyped at this boundary, narrowed field by field. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Raw = any;
