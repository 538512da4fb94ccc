/** `echo`: the caller as the platform sees it, and the parameters it sent. */
import { implement } from '@shallot/core';
import { echo } from '@shallot/schemas';

export function echoRoutes() {
  return [
    implement(echo, async ({ params, caller }) => ({
      code: 0 as const,
      // The echo descriptor requires a caller; the guard has run.
      caller: { kind: caller?.kind ?? 'session', username: caller?.username ?? '', privileges: caller?.privileges ?? {} },
      params,
    })),
  ];
}
