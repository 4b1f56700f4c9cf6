/**
 * The source of a service-to-service authorization as the gateway presents
 * itself (IBM: subject `serviceName=cloud-object-storage`, `serviceInstance`).
 *
 * Every account of a Coffer has one Cloud Object Storage service instance, the
 * gateway, with the same instance id `coffer-s3` (the instance segment of its
 * bucket CRNs); its CRN, scoped by the account, is what tells accounts apart:
 * `crn:v1:bluemix:public:cloud-object-storage:global:a/<account>:coffer-s3::`.
 * An authorization naming no serviceInstance covers every COS instance of the
 * account, as in IBM Cloud.
 */
export const COS_SERVICE_NAME = 'cloud-object-storage';
export const KMS_SERVICE_NAME = 'kms';
export const GATEWAY_SERVICE_INSTANCE = 'coffer-s3';

export interface ServiceSource {
  accountId: string;
  serviceName: string;
  serviceInstance: string;
}

/** The gateway acting for a tenant account. */
export function gatewaySource(accountId: string): ServiceSource {
  return { accountId, serviceName: COS_SERVICE_NAME, serviceInstance: GATEWAY_SERVICE_INSTANCE };
}

export function cosInstanceCrn(accountId: string): string {
  return `crn:v1:bluemix:public:${COS_SERVICE_NAME}:global:a/${accountId}:${GATEWAY_SERVICE_INSTANCE}::`;
}
