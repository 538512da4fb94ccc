/**
 * The schedule matcher (a day walk in scheduleRuns, and the per-minute test the tick uses) against a brute force:
 * every UTC minute of ten years, read on the wall clock from a transition table built independently here.
 */
import type { ScheduleTrigger } from '@shallot/schemas';
import fc from 'fast-check';
import t from 'tap';
import { scheduleMatches, scheduleRuns } from '../src/scheduler/match.js';
import { Zone } from '../src/scheduler/zone.js';

const ZONES = ['UTC', 'America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'America/Santiago', 'Pacific/Chatham', 'Asia/Kolkata'];
const TEN_YEARS = 3653 * 86_400;
const FROM = Date.UTC(2024, 0, 1) / 1000;
const TO = FROM + TEN_YEARS;

/** UTC offset (s) from Intl's "GMT+hh:mm" name: a different route from the Zone class. */
function offsetByName(format: Intl.DateTimeFormat, epoch: number): number {
  const name = format.formatToParts(epoch * 1000).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 3600 + Number(m[3]) * 60) : 0;
}

/** [instant, offset from then on], found by sampling every 6 hours and bisecting each change to the minute. */
function transitions(zone: string): Array<[number, number]> {
  const format = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
  const table: Array<[number, number]> = [[FROM - 86_400, offsetByName(format, FROM - 86_400)]];
  let previous = table[0]?.[1] ?? 0;
  for (let at = FROM; at <= TO + 86_400; at += 6 * 3600) {
    const offset = offsetByName(format, at);
    if (offset === previous) continue;
    let lo = at - 6 * 3600;
    let hi = at;
    while (hi - lo > 60) {
      const mid = Math.floor((lo + hi) / 120) * 60;
      if (offsetByName(format, mid) === previous) lo = mid;
      else hi = mid;
    }
    table.push([hi, offset]);
    previous = offset;
  }
  return table;
}

const tables = new Map(ZONES.map((z) => [z, transitions(z)]));

function bruteForce(trigger: ScheduleTrigger, zone: string): number[] {
  const table = tables.get(zone) ?? [];
  const ok = (list: number[] | undefined, v: number) => !list || list.length === 0 || list.includes(v);
  const hits: number[] = [];
  let index = 0;
  let maxWall = Number.NEGATIVE_INFINITY;
  let dayNumber = Number.NaN;
  let dayOk = false;
  for (let m = FROM; m < TO; m += 60) {
    while (index + 1 < table.length && (table[index + 1]?.[0] ?? Infinity) <= m) index++;
    const wall = m + (table[index]?.[1] ?? 0);
    // A wall time already shown (clocks went back) does not run again.
    const repeat = wall <= maxWall;
    if (wall > maxWall) maxWall = wall;
    const day = Math.floor(wall / 86_400);
    if (day !== dayNumber) {
      dayNumber = day;
      const d = new Date(day * 86_400_000);
      const year = d.getUTCFullYear();
      const month = d.getUTCMonth() + 1;
      const date = d.getUTCDate();
      const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
      dayOk =
        ok(trigger.years, year) &&
        ok(trigger.months, month) &&
        (!trigger.days || trigger.days.length === 0 || trigger.days.includes(date) || trigger.days.includes(date - last - 1)) &&
        ok(trigger.weekdays, d.getUTCDay());
    }
    if (!dayOk || repeat) continue;
    const secondOfDay = wall - day * 86_400;
    if (ok(trigger.hours, Math.floor(secondOfDay / 3600)) && ok(trigger.minutes, Math.floor((secondOfDay % 3600) / 60))) hits.push(m);
  }
  return hits;
}

const subset = (from: number, to: number, max: number) => fc.uniqueArray(fc.integer({ min: from, max: to }), { maxLength: max });
const schedules = fc.record({
  years: subset(2023, 2036, 4),
  months: subset(1, 12, 4),
  days: fc.uniqueArray(fc.oneof(fc.integer({ min: 1, max: 31 }), fc.integer({ min: -7, max: -1 })), { maxLength: 4 }),
  weekdays: subset(0, 6, 3),
  // At least one hour and one minute keeps a run's hits (and the test's time) bounded; DST hours are favoured.
  hours: fc.uniqueArray(fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 23 })), { minLength: 1, maxLength: 3 }),
  minutes: fc.uniqueArray(fc.oneof(fc.constantFrom(0, 15, 30, 45, 59), fc.integer({ min: 0, max: 59 })), { minLength: 1, maxLength: 3 }),
  timezone: fc.constantFrom(...ZONES),
});

t.test('schedule: the day walk and the minute test agree with a brute-force minute walk over ten years', async (t) => {
  let total = 0;
  fc.assert(
    fc.property(schedules, fc.integer({ min: 0, max: 2 ** 31 }), (fields, seed) => {
      const trigger: ScheduleTrigger = { type: 'schedule', enabled: true, ...fields };
      const zone = new Zone(fields.timezone);
      const expected = bruteForce(trigger, fields.timezone);
      const actual = [...scheduleRuns(trigger, zone, FROM - 60, TO - 60)];
      total += expected.length;
      if (actual.length !== expected.length || actual.some((v, i) => v !== expected[i])) {
        const firstDiff = actual.findIndex((v, i) => v !== expected[i]);
        throw new Error(
          `day walk differs at #${firstDiff}: ${actual[firstDiff]} vs ${expected[firstDiff]} (${actual.length} vs ${expected.length})`,
        );
      }
      // The tick's minute test on every expected hit and on random minutes.
      const hits = new Set(expected);
      const sample = expected.filter((_, i) => i % 7 === 0);
      let x = seed;
      for (let i = 0; i < 300; i++) {
        x = (x * 1103515245 + 12345) % 2 ** 31;
        sample.push(FROM + (x % (TEN_YEARS / 60)) * 60);
      }
      for (const m of sample) {
        if (scheduleMatches(trigger, zone, m) !== hits.has(m)) throw new Error(`minute test wrong at ${new Date(m * 1000).toISOString()}`);
      }
    }),
    { numRuns: 25 },
  );
  t.ok(total > 0, `${total} hits compared`);
});
