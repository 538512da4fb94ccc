/**
 * The searchable indexes of servers, monitoring and tickets (spec/data-structures.md §8, §10, §20, §22; behaviour
 * §5.3). Declared once here so the services that write them (job-runner, management) and the one that searches them
 * (search_* calls) use the same spec. Fields are the stored record's own top-level fields: a writer puts the facts a
 * search needs at the top level (a server's `os_platform`, a ticket's `changes_text`) rather than only nested in
 * `info` or `changes`. Time fields are epoch seconds; the query language's hour flooring happens at query time.
 */
import type { IndexSpec } from '@shallot/store';

/** Servers (prefix `s`): every server ever seen, online or not. Unscoped. */
export const SERVERS_INDEX: IndexSpec = {
  name: 'servers',
  fields: {
    hostname: 'keyword',
    ip: 'keyword',
    title: 'text',
    enabled: 'boolean',
    groups: 'keyword',
    autoGroup: 'boolean',
    created: 'number',
    modified: 'number',
    /** 1–64-character words: hostname parts, ip, title words, os facts. */
    keywords: 'keyword',
    os_platform: 'keyword',
    os_distro: 'keyword',
    os_release: 'keyword',
    os_arch: 'keyword',
    cpu_virt: 'keyword',
    cpu_brand: 'keyword',
    cpu_cores: 'keyword',
  },
  hot: ['hostname', 'modified'],
};

/** Server and group snapshots (prefix `sn`). Unscoped. */
export const SNAPSHOTS_INDEX: IndexSpec = {
  name: 'snapshots',
  fields: {
    type: 'keyword',
    source: 'keyword',
    server: 'keyword',
    hostname: 'keyword',
    username: 'keyword',
    groups: 'keyword',
    date: 'number',
    alerts: 'keyword',
    jobs: 'keyword',
  },
  hot: ['server', 'date'],
};

/** Alert invocations (DB index `alerts`, prefix `a`): one per firing of an alert on a server. Unscoped. */
export const ALERT_INVOCATIONS_INDEX: IndexSpec = {
  name: 'alerts',
  fields: {
    alert: 'keyword',
    server: 'keyword',
    groups: 'keyword',
    active: 'boolean',
    date: 'number',
    modified: 'number',
    jobs: 'keyword',
    tickets: 'keyword',
  },
  hot: ['alert', 'date'],
};

/** Tickets (prefix `t`). Unscoped. */
export const TICKETS_INDEX: IndexSpec = {
  name: 'tickets',
  fields: {
    num: 'number',
    type: 'keyword',
    status: 'keyword',
    category: 'keyword',
    server: 'keyword',
    username: 'keyword',
    assignees: 'keyword',
    cc: 'keyword',
    jobs: 'keyword',
    alerts: 'keyword',
    tags: 'keyword',
    created: 'number',
    modified: 'number',
    due: 'number',
    subject: 'text',
    body: 'text',
    /** The bodies and values of `changes`, joined by the writer: what the `changes` search field reads. */
    changes_text: 'text',
  },
  hot: ['num', 'modified'],
};

/** Scope of every index above. */
export const RECORD_INDEX_SCOPE = '';
