/** The versionId query parameter and the version headers of S3 answers. */
import type { S3RequestContext } from './context.js';

/** ?versionId= as sent (the service checks its form); undefined when absent. */
export function versionParam(ctx: S3RequestContext): string | undefined {
  return ctx.query.get('versionId') ?? undefined;
}

/** x-amz-version-id, when there is one to send (never in a bucket that was never versioned). */
export function versionHeader(version: string | undefined): Record<string, string> {
  return version === undefined ? {} : { 'x-amz-version-id': version };
}
