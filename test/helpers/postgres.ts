/**
 * The throwaway PostgreSQL server the tests start lives with the cluster
 * scripts (scripts/cluster/postgres.ts), so `npm run bench -- --cluster` starts
 * the same one without importing test code.
 */
export { findPgBinDir, startPostgres, type TestPostgres } from '../../scripts/cluster/postgres.js';
