/**
 * The scheduler's pure part (trigger matching, time zones, next runs): the job-runner's scheduler runs it, management
 * answers `next_runs` with it, neither depending on the other.
 */
export * from './match.js';
export * from './zone.js';
