/**
 * Names in the task-monitor world. Org and app names are validated before they are used anywhere, and the
 * storage scope of an application is derived from them — never taken from a request as it is.
 */

/** Application names: lower-case letters only (spec: `^[a-z]+$`, UI 3–16 chars). */
export const APP_NAME_PATTERN = '^[a-z]{1,32}$';
/** Environment names (`x-leek-app-env`). */
export const APP_ENV_PATTERN = '^[a-z]{1,32}$';
/** Orgs are e-mail domains (`acme.io`) or Gmail local parts (`jane.doe`). */
export const ORG_PATTERN = '^[a-z0-9](?:[a-z0-9.-]{0,61}[a-z0-9])?$';

const APP_NAME = new RegExp(APP_NAME_PATTERN);
const APP_ENV = new RegExp(APP_ENV_PATTERN);
const ORG = new RegExp(ORG_PATTERN);

export const isAppName = (value: unknown): value is string => typeof value === 'string' && APP_NAME.test(value);
export const isAppEnv = (value: unknown): value is string => typeof value === 'string' && APP_ENV.test(value);
export const isOrgName = (value: unknown): value is string => typeof value === 'string' && ORG.test(value);

/** The collection holding applications (id = `leekScope(org, app)`). */
export const LEEK_APPLICATIONS = 'leek_applications';

/**
 * The storage scope of one application: `<org with dots as underscores>-<app>`. App names are letters only, so the
 * last `-` separates the two unambiguously, and the result matches the store's scope pattern.
 */
export function leekScope(org: string, app: string): string {
  if (!isOrgName(org)) throw new TypeError(`invalid org name ${JSON.stringify(org)}`);
  if (!isAppName(app)) throw new TypeError(`invalid application name ${JSON.stringify(app)}`);
  return `${org.replace(/\./g, '_')}-${app}`;
}

/** The org of a user, from their e-mail: `jane@gmail.com` → `jane`, `jo@acme.io` → `acme.io` (spec §1.1). */
export function orgOfEmail(email: string): string | undefined {
  const at = email.lastIndexOf('@');
  if (at <= 0) return undefined;
  const local = email.slice(0, at).toLowerCase();
  const domain = email.slice(at + 1).toLowerCase();
  const org = domain === 'gmail.com' ? local : domain;
  return isOrgName(org) ? org : undefined;
}
