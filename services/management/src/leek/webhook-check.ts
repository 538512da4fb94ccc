/**
 * Trigger web hook verification (leek-management-and-search §4.1): before a trigger is saved (create and edit), a
 * plain-text Slack message summarising it is posted to its `slack_wh_url`; no answer, a timeout or a non-2xx answer
 * refuses the trigger with 400 400002 "invalid webhook URL", and nothing is saved. Unlike the reference, the post goes
 * through the SSRF guard (private and loopback targets only when allow-listed) and gives up after a timeout.
 */
import { LeekError, type WebhookGuard, deliverWebhook } from '@shallot/core';
import type { LeekTrigger } from '@shallot/schemas';

/** @default how long the owner waits for the web hook's answer when saving a trigger, in milliseconds */
export const TRIGGER_CHECK_TIMEOUT_MS = 10_000;

const listed = (values: readonly string[] | undefined): string => (values === undefined || values.length === 0 ? 'all' : values.join(', '));

/** The message: what the trigger will send to this web hook. */
export function triggerSummary(appName: string, trigger: LeekTrigger): string {
  const lines = [
    `Shallot will post task notifications of application ${appName} here.`,
    `Trigger ${trigger.id}: ${trigger.enabled ? 'enabled' : 'disabled'}`,
    `Environments: ${listed(trigger.envs)}`,
    `States: ${listed(trigger.states)}`,
  ];
  if (trigger.include !== undefined) lines.push(`Only task names matching: ${trigger.include.join(', ')}`);
  if (trigger.exclude !== undefined) lines.push(`Except task names matching: ${trigger.exclude.join(', ')}`);
  if (trigger.runtime_upper_bound !== undefined)
    lines.push(`Successful tasks only when they ran longer than ${trigger.runtime_upper_bound} seconds`);
  return lines.join('\n');
}

/** Posts the summary to the trigger's web hook; throws LeekError 'invalid' saying why when it is not answered with 2xx. */
export async function verifyTriggerWebhook(
  appName: string,
  trigger: LeekTrigger,
  guard: WebhookGuard,
  timeoutMs = TRIGGER_CHECK_TIMEOUT_MS,
): Promise<void> {
  const result = await deliverWebhook(
    trigger.slack_wh_url,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: triggerSummary(appName, trigger) }),
      timeoutMs,
    },
    guard,
  );
  if (result.ok) return;
  const why = result.refused
    ? `the address is not allowed (${result.error})`
    : result.status > 0
      ? `it answered HTTP ${result.status}`
      : `no answer (${result.error ?? 'connection failed'})`;
  throw new LeekError('invalid', `invalid webhook URL: the test message was not accepted: ${why}`);
}
