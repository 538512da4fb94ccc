import { type Trigger, TriggerList, normalizeTriggers, triggerListProblem } from '@shallot/schemas';
import { Value } from '@sinclair/typebox/value';
import t from 'tap';
import { type Catalog, eventNextRuns, intervalHits, nextRuns, planMinute, schedulableTriggers } from '../src/scheduler/match.js';
import { Zones, isTimeZone } from '../src/scheduler/zone.js';

const zones = new Zones('UTC');
const at = (iso: string) => Date.parse(iso) / 1000;
const iso = (epoch: number) => new Date(epoch * 1000).toISOString().replace('.000', '');
const runs = (triggers: Trigger[], from: string, count: number) => nextRuns(triggers, zones, { after: at(from), count }).map(iso);
const schedule = (fields: Record<string, unknown>): Trigger => ({ type: 'schedule', enabled: true, ...fields }) as Trigger;

t.test('schedule: every listed part must match, an empty list means all', async (t) => {
  t.same(runs([schedule({ hours: [4, 16], minutes: [30] })], '2026-01-01T00:00:00Z', 3), [
    '2026-01-01T04:30:00Z',
    '2026-01-01T16:30:00Z',
    '2026-01-02T04:30:00Z',
  ]);
  // Weekdays 1 (Monday) and 5 (Friday); 2026-01-05 is a Monday.
  t.same(runs([schedule({ weekdays: [1, 5], hours: [9], minutes: [0] })], '2026-01-03T00:00:00Z', 3), [
    '2026-01-05T09:00:00Z',
    '2026-01-09T09:00:00Z',
    '2026-01-12T09:00:00Z',
  ]);
  t.same(runs([schedule({ years: [2027], months: [3], days: [15], hours: [0], minutes: [0] })], '2026-01-01T00:00:00Z', 2), [
    '2027-03-15T00:00:00Z',
  ]);
});

t.test('schedule: negative days count from the end of the month, leap years included', async (t) => {
  t.same(runs([schedule({ days: [-1], hours: [23], minutes: [59] })], '2027-12-31T00:00:00Z', 5), [
    '2027-12-31T23:59:00Z',
    '2028-01-31T23:59:00Z',
    '2028-02-29T23:59:00Z',
    '2028-03-31T23:59:00Z',
    '2028-04-30T23:59:00Z',
  ]);
  t.same(runs([schedule({ months: [2], days: [-2], hours: [0], minutes: [0] })], '2026-01-01T00:00:00Z', 3), [
    '2026-02-27T00:00:00Z',
    '2027-02-27T00:00:00Z',
    '2028-02-28T00:00:00Z',
  ]);
  t.same(runs([schedule({ days: [31], hours: [12], minutes: [0] })], '2026-01-31T13:00:00Z', 2), [
    '2026-03-31T12:00:00Z',
    '2026-05-31T12:00:00Z',
  ]);
});

t.test('schedule in a zone: a wall time skipped by DST never runs, a repeated one runs once', async (t) => {
  const ny = (fields: Record<string, unknown>) => schedule({ timezone: 'America/New_York', ...fields });
  // 2026-03-08 02:30 does not exist in New York (02:00 → 03:00).
  t.same(runs([ny({ hours: [2], minutes: [30] })], '2026-03-07T00:00:00Z', 3), [
    '2026-03-07T07:30:00Z',
    '2026-03-09T06:30:00Z',
    '2026-03-10T06:30:00Z',
  ]);
  // 2026-11-01 01:30 happens twice (EDT then EST): only the first, 05:30Z.
  t.same(runs([ny({ hours: [1], minutes: [30] })], '2026-10-31T00:00:00Z', 3), [
    '2026-10-31T05:30:00Z',
    '2026-11-01T05:30:00Z',
    '2026-11-02T06:30:00Z',
  ]);
  // The tick agrees minute by minute: 06:30Z on 2026-11-01 reads 01:30 again and does not fire.
  const trig = [ny({ hours: [1], minutes: [30] })];
  t.equal(planMinute('e', trig, zones, at('2026-11-01T05:30:00Z')).launches.length, 1);
  t.equal(planMinute('e', trig, zones, at('2026-11-01T06:30:00Z')).launches.length, 0);
  // Every minute of the repeated hour runs once: 60 runs between 05:00Z and 07:00Z, none in the second pass.
  const hourly = nextRuns([ny({ hours: [1] })], zones, { after: at('2026-11-01T04:59:00Z'), count: 200, horizonSeconds: 3 * 3600 });
  t.equal(hourly.length, 60);
  t.equal(iso(hourly.at(-1) ?? 0), '2026-11-01T05:59:00Z');
  // Lord Howe moves by 30 minutes: 02:15 is skipped on 2026-10-04.
  t.same(runs([schedule({ timezone: 'Australia/Lord_Howe', hours: [2], minutes: [15] })], '2026-10-02T00:00:00Z', 3), [
    '2026-10-02T15:45:00Z',
    '2026-10-04T15:15:00Z',
    '2026-10-05T15:15:00Z',
  ]);
});

t.test('interval: start + k·duration to the second, sub-minute too, nothing before start', async (t) => {
  const start = at('2026-01-01T00:00:10Z');
  t.same(intervalHits({ start, duration: 15 }, at('2026-01-01T00:00:00Z')), [10, 25, 40, 55]);
  t.same(intervalHits({ start, duration: 15 }, at('2026-01-01T00:01:00Z')), [10, 25, 40, 55]);
  t.same(intervalHits({ start, duration: 90 }, at('2026-01-01T00:01:00Z')), [40]);
  t.same(intervalHits({ start, duration: 90 }, at('2026-01-01T00:02:00Z')), []);
  t.same(intervalHits({ start, duration: 15 }, at('2025-12-31T23:59:00Z')), [], 'before start');
  const plan = planMinute('e', [{ type: 'interval', enabled: true, start, duration: 20 }], zones, at('2026-01-01T00:05:00Z'));
  t.same(
    plan.launches.map((l) => [iso(l.now), l.state, l.until === l.now, l.stype]),
    [
      ['2026-01-01T00:05:10Z', 'start_delay', true, 'interval'],
      ['2026-01-01T00:05:30Z', 'start_delay', true, 'interval'],
      ['2026-01-01T00:05:50Z', 'start_delay', true, 'interval'],
    ],
  );
  t.same(runs([{ type: 'interval', enabled: true, start, duration: 3600 }], '2026-01-01T00:00:00Z', 2), [
    '2026-01-01T00:00:10Z',
    '2026-01-01T01:00:10Z',
  ]);
});

t.test('single fires in its minute only; modifiers shape the launch', async (t) => {
  const single: Trigger = {
    type: 'single',
    enabled: true,
    epoch: at('2026-05-05T10:00:00Z'),
    id: 'n1',
    tags: ['x'],
    params: { a: 1 },
    data: [1, 2],
  };
  t.same(planMinute('e', [single], zones, at('2026-05-05T09:59:00Z')).launches, []);
  t.same(planMinute('e', [single], zones, at('2026-05-05T10:00:00Z')).launches, [
    {
      event: 'e',
      now: at('2026-05-05T10:00:00Z'),
      minute: at('2026-05-05T10:00:00Z'),
      source: 'scheduler',
      stype: 'single',
      trigger: 'n1',
      params: { a: 1 },
      tags: ['x'],
      data: [1, 2],
    },
  ]);
  const every = schedule({ minutes: [0] });
  const m = at('2026-05-05T10:00:00Z');
  const delayed = planMinute('e', [every, { type: 'delay', enabled: true, duration: 90 }], zones, m).launches;
  t.same(
    delayed.map((l) => [l.now, l.state, l.until]),
    [[m, 'start_delay', m + 90]],
  );
  const precise = planMinute('e', [every, { type: 'precision', enabled: true, seconds: [45, 5, 5] }], zones, m).launches;
  t.same(
    precise.map((l) => [l.now - m, l.until]),
    [
      [5, m + 5],
      [45, m + 45],
    ],
    'one job per listed second, sorted, once each',
  );
  const quiet = planMinute('e', [every, { type: 'quiet', enabled: true, invisible: true }], zones, m).launches;
  t.equal(quiet[0]?.invisible, true);
  t.equal(planMinute('e', [every, { type: 'nth', enabled: true, every: 3 }], zones, m).nth, 3);
});

t.test('range and blackout windows are inclusive', async (t) => {
  const every = schedule({});
  const s = at('2026-01-01T10:00:00Z');
  const e = at('2026-01-01T10:02:00Z');
  const fires = (triggers: Trigger[], minute: number) => planMinute('e', triggers, zones, minute).launches.length > 0;
  const range: Trigger = { type: 'range', enabled: true, start: s, end: e };
  t.same(
    [s - 60, s, e, e + 60].map((m) => fires([every, range], m)),
    [false, true, true, false],
  );
  const blackout: Trigger = { type: 'blackout', enabled: true, start: s, end: e };
  t.same(
    [s - 60, s, e, e + 60].map((m) => fires([every, blackout], m)),
    [true, false, false, true],
  );
  const openEnd: Trigger = { type: 'range', enabled: true, start: s };
  t.same(
    [s - 60, s + 1e6].map((m) => fires([every, openEnd], m)),
    [false, true],
  );
  t.same(runs([every, blackout], '2026-01-01T09:59:00Z', 2), ['2026-01-01T10:03:00Z', '2026-01-01T10:04:00Z']);
});

t.test('a disabled event, category or plugin fires nothing; disabled triggers do not count', async (t) => {
  const catalog: Catalog = {
    categories: new Map([
      ['on', { enabled: true }],
      ['off', { enabled: false }],
    ]),
    plugins: new Map([['stopped', { enabled: false }]]),
  };
  const triggers = [schedule({}), { type: 'schedule', enabled: false }];
  t.equal(schedulableTriggers({ id: 'a', enabled: true, category: 'on', triggers }, catalog).length, 1);
  t.equal(schedulableTriggers({ id: 'a', enabled: false, category: 'on', triggers }, catalog).length, 0);
  t.equal(schedulableTriggers({ id: 'a', enabled: true, category: 'off', triggers }, catalog).length, 0);
  t.equal(schedulableTriggers({ id: 'a', enabled: true, category: 'gone', triggers }, catalog).length, 0);
  t.equal(schedulableTriggers({ id: 'a', enabled: true, category: 'on', plugin: 'stopped', triggers }, catalog).length, 0);
  t.equal(schedulableTriggers({ id: 'a', enabled: true, category: 'on', plugin: 'unknown', triggers }, catalog).length, 1);
});

t.test('trigger lists: strict shapes and the rules across entries', async (t) => {
  t.ok(Value.Check(TriggerList, [schedule({ days: [-1, 15], timezone: 'Europe/Paris' }), { type: 'manual', enabled: true }]));
  t.notOk(Value.Check(TriggerList, [schedule({ days: [0] })]), 'day 0 is refused');
  t.notOk(Value.Check(TriggerList, [schedule({ hours: [24] })]));
  t.notOk(Value.Check(TriggerList, [{ type: 'interval', enabled: true, start: 100 }]), 'interval needs a duration');
  t.notOk(Value.Check(TriggerList, [{ type: 'warp', enabled: true }]), 'unknown type');
  t.notOk(Value.Check(TriggerList, [{ type: 'precision', enabled: true, seconds: [60] }]));
  const problem = (list: unknown[]) => triggerListProblem(list as Trigger[], isTimeZone);
  t.match(
    problem([
      { type: 'catchup', enabled: true },
      { type: 'catchup', enabled: true },
    ]),
    /At most one enabled catchup/,
  );
  t.equal(
    problem([
      { type: 'catchup', enabled: true },
      { type: 'catchup', enabled: false },
    ]),
    undefined,
  );
  t.match(
    problem([
      { type: 'interval', enabled: true, start: 1, duration: 5 },
      { type: 'precision', enabled: true, seconds: [1] },
    ]),
    /interval .* precision/,
  );
  t.match(
    problem([
      { type: 'delay', enabled: true, duration: 5 },
      { type: 'precision', enabled: true, seconds: [1] },
    ]),
    /precision .* delay/,
  );
  t.match(problem([{ type: 'blackout', enabled: true, start: 200, end: 100 }]), /start must not be after end/);
  t.match(problem([schedule({ timezone: 'Mars/Olympus' })]), /unknown time zone/);
  t.same(normalizeTriggers([{ type: 'single', enabled: true, epoch: 125 }]), [{ type: 'single', enabled: true, epoch: 120 }]);
});

t.test('next runs of an event: precision seconds, windows, disabled triggers and events', async (t) => {
  const triggers = [
    schedule({ hours: [9], minutes: [0], timezone: 'Europe/Paris' }),
    { type: 'precision', enabled: true, seconds: [0, 30] },
    { type: 'blackout', enabled: true, start: at('2026-07-02T07:00:00Z'), end: at('2026-07-02T07:00:00Z') },
    schedule({ enabled: false, minutes: [1] }),
  ];
  const event = { id: 'e', enabled: true, triggers };
  // Paris 09:00 is 07:00Z in summer; the blackout drops 2 July's minute, both of its precision slots.
  t.same(eventNextRuns(event, zones, at('2026-07-01T08:00:00Z'), 4).map(iso), [
    '2026-07-03T07:00:00Z',
    '2026-07-03T07:00:30Z',
    '2026-07-04T07:00:00Z',
    '2026-07-04T07:00:30Z',
  ]);
  t.same(eventNextRuns({ ...event, enabled: false }, zones, at('2026-07-01T08:00:00Z'), 4), []);
  t.same(eventNextRuns({ id: 'm', enabled: true, triggers: [{ type: 'manual', enabled: true }] }, zones, 0, 4), [], 'on demand only');
});
