/** `/v1/events/process`: the agent's liveness (OPTIONS), readiness (GET) and ingest (POST) calls. */
import { type ServiceContext, implement, leekJsonString } from '@shallot/core';
import { leekEventsOptions, leekEventsProcess, leekEventsReady } from '@shallot/schemas';
import { agentHeaders, authenticateAgent } from '../leek/agents.js';
import { ingestBatch } from '../leek/ingest.js';
import type { OutboxRelay } from '../leek/outbox-relay.js';
import type { BatchWriter } from '../leek/writer.js';

export function eventRoutes(ctx: ServiceContext, writer: BatchWriter, relay: OutboxRelay) {
  const { store, config } = ctx;
  return [
    implement(leekEventsOptions, async ({ reply }) => leekJsonString(reply, 'OK')),

    implement(leekEventsReady, async ({ request, reply }) => {
      await authenticateAgent(store, config, agentHeaders(request, false), { autoCreate: true });
      return leekJsonString(reply, 'Ready!');
    }),

    implement(leekEventsProcess, async ({ request, reply }) => {
      const target = await authenticateAgent(store, config, agentHeaders(request, true), { autoCreate: false });
      const answer = await ingestBatch(writer, { ...target, triggers: target.application.fo_triggers }, request.body);
      if (target.application.fo_triggers.some((trigger) => trigger.enabled)) relay.wake();
      reply.code(201);
      return answer;
    }),
  ];
}
