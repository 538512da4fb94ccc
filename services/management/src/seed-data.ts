/** The default records of a fresh install (spec/behaviour.md §14), by collection. */

type Fields = Record<string, unknown>;

const text = (id: string, title: string, value: unknown = '', extra: Fields = {}): Fields => ({ id, title, type: 'text', value, ...extra });
const number = (id: string, title: string, value: number): Fields => text(id, title, value, { variant: 'number' });
const checkbox = (id: string, title: string, value = false): Fields => ({ id, title, type: 'checkbox', value });
const textarea = (id: string, title: string): Fields => ({ id, title, type: 'textarea', value: '' });
const select = (id: string, title: string, value: string): Fields => ({ id, title, type: 'select', value });

export const SEED_ROLES: Fields[] = [
  {
    id: 'all',
    title: 'All Users',
    enabled: true,
    icon: '',
    notes: '',
    privileges: { create_events: true, edit_events: true, run_jobs: true, tag_jobs: true },
    categories: [],
    groups: [],
  },
];

export const SEED_GROUPS: Fields[] = [
  { id: 'main', title: 'Main Group', hostname_match: '.+', alert_actions: [], icon: '', notes: '', sort_order: 0 },
];

export const SEED_CATEGORIES: Fields[] = [
  {
    id: 'general',
    title: 'General',
    enabled: true,
    sort_order: 0,
    color: 'plain',
    icon: '',
    notes: "For events that don't fit anywhere else.",
    limits: [],
    actions: [],
  },
];

export const SEED_PLUGINS: Fields[] = [
  {
    id: 'testplug',
    title: 'Test Plugin',
    type: 'event',
    command: '[test-plugin]',
    kill: 'parent',
    stock: true,
    enabled: true,
    params: [
      { ...number('duration', 'Duration (seconds)', 60), required: true },
      select('action', 'Result', 'Success, Error, Warning, Critical, Crash'),
      text('custom', 'Custom Message'),
      checkbox('burn', 'Burn CPU'),
      checkbox('network', 'Network Test'),
      checkbox('upload', 'Upload Files'),
    ],
  },
  {
    id: 'shellplug',
    title: 'Shell Script',
    type: 'event',
    command: '[shell-plugin]',
    kill: 'all',
    stock: true,
    enabled: true,
    params: [
      {
        id: 'script',
        title: 'Script',
        type: 'code',
        value: '#!/bin/sh\n\n# Enter your shell script code here',
        locked: true,
        required: true,
      },
      checkbox('annotate', 'Add Date/Time Stamps to Log'),
    ],
  },
  {
    id: 'httpplug',
    title: 'HTTP Request',
    type: 'event',
    command: '[http-plugin]',
    kill: 'parent',
    stock: true,
    enabled: true,
    params: [
      select('method', 'Method', 'GET, HEAD, POST, PUT, DELETE'),
      text('url', 'URL', 'https://', { variant: 'url', locked: true, required: true }),
      textarea('headers', 'Request Headers'),
      textarea('data', 'Request Data'),
      number('timeout', 'Timeout (seconds)', 30),
      number('idle_timeout', 'Idle Timeout (seconds)', 30),
      number('connect_timeout', 'Connect Timeout (seconds)', 10),
      text('success_match', 'Success Match'),
      text('error_match', 'Error Match'),
      checkbox('follow', 'Follow Redirects'),
      checkbox('download', 'Download Response'),
      checkbox('ssl_cert_bypass', 'Ignore TLS Certificate Errors'),
    ],
  },
  {
    id: 'dockerplug',
    title: 'Docker Run',
    type: 'event',
    command: '[docker-plugin]',
    kill: 'all',
    runner: true,
    stock: true,
    enabled: true,
    params: [
      text('image_name', 'Image Name', 'ghcr.io/pixlcore/xyops-shell-image', { locked: true }),
      text('image_ver', 'Image Version', 'latest', { locked: true }),
      text('cont_name', 'Container Name', 'xyops-job-{{id}}'),
      number('cont_cpus', 'CPUs', 1),
      text('cont_mem', 'Memory Limit', '1 GB'),
      text('cont_net', 'Network'),
      text('cont_extras', 'Extra Arguments', '', { locked: true }),
      text('cont_cmd', 'Command', 'xyrun', { locked: true }),
      select('run_mode', 'Run Mode', 'Script, Command'),
      {
        id: 'script',
        title: 'Script',
        type: 'code',
        value: '#!/bin/sh\n\n# Enter your shell script code here',
        locked: true,
        required: true,
      },
      checkbox('cont_init', 'Use Init Process', true),
      checkbox('cont_rm', 'Remove Container', true),
      checkbox('verbose', 'Verbose'),
    ],
  },
  {
    id: 'hookplug',
    title: 'Fire Web Hook',
    type: 'event',
    command: '[hook-plugin]',
    kill: 'parent',
    enabled: true,
    params: [
      { id: 'web_hook', title: 'Web Hook', type: 'system', list_id: 'web_hooks', value: '', required: true },
      textarea('text', 'Message Text'),
    ],
  },
  {
    id: 'open_files',
    title: 'Count Open Files',
    type: 'monitor',
    command: '/bin/sh',
    script: 'cat /proc/sys/fs/file-nr',
    format: 'text',
    groups: [],
    enabled: true,
  },
];

export const SEED_CHANNELS: Fields[] = [
  { id: 'sev1', title: 'Severity 1', enabled: true, users: ['admin'], sound: 'attention-3.mp3', email: '', web_hook: '', run_event: '' },
];

export const SEED_WEB_HOOKS: Fields[] = [
  {
    id: 'example_hook',
    title: 'Example Hook',
    enabled: true,
    method: 'POST',
    url: 'https://httpbin.org/post',
    headers: [
      { name: 'Content-Type', value: 'application/json' },
      { name: 'User-Agent', value: 'xyOps/WebHook' },
    ],
    body: '{"text":"{{text}}","content":"{{text}}","message":"{{text}}"}',
    timeout: 30,
    retries: 0,
  },
];

export const SEED_TAGS: Fields[] = [
  { id: 'important', title: 'Important', icon: 'alert-rhombus', notes: '' },
  { id: 'flag', title: 'Flag', icon: 'flag-checkered', notes: '' },
];

interface MonitorSeed {
  id: string;
  title: string;
  source: string;
  data_type: string;
  suffix?: string;
  min_vert_scale?: number;
  /** delta, min 0, divided by time */
  rate?: boolean;
  data_match?: string;
}

const MONITORS: MonitorSeed[] = [
  { id: 'load_avg', title: 'Load Average', source: 'load[0]', data_type: 'float', min_vert_scale: 1 },
  { id: 'cpu_usage', title: 'CPU Usage', source: 'cpu.currentLoad', data_type: 'float', suffix: '%', min_vert_scale: 100 },
  { id: 'mem_used', title: 'Memory in Use', source: 'memory.used', data_type: 'bytes' },
  { id: 'mem_free', title: 'Memory Available', source: 'memory.available', data_type: 'bytes' },
  { id: 'net_conns', title: 'Network Connections', source: 'stats.network.conns', data_type: 'integer' },
  { id: 'disk_usage_root', title: 'Disk Usage (Root)', source: 'mounts.root.use', data_type: 'float', suffix: '%', min_vert_scale: 100 },
  { id: 'disk_read_sec', title: 'Disk Read', source: 'stats.fs.rx', data_type: 'bytes', rate: true, suffix: '/sec' },
  { id: 'disk_write_sec', title: 'Disk Write', source: 'stats.fs.wx', data_type: 'bytes', rate: true, suffix: '/sec' },
  { id: 'disk_iops_sec', title: 'Disk I/O Operations', source: 'stats.io.tIO', data_type: 'integer', rate: true, suffix: '/sec' },
  { id: 'io_wait', title: 'I/O Wait', source: 'cpu.totals.iowait', data_type: 'float', suffix: '%' },
  { id: 'open_files', title: 'Open Files', source: 'commands.open_files', data_type: 'integer', data_match: '(\\d+)' },
  { id: 'os_bytes_in_sec', title: 'Network In', source: 'stats.network.rx_bytes', data_type: 'bytes', rate: true, suffix: '/sec' },
  { id: 'os_bytes_out_sec', title: 'Network Out', source: 'stats.network.tx_bytes', data_type: 'bytes', rate: true, suffix: '/sec' },
  { id: 'total_procs', title: 'Total Processes', source: 'processes.all', data_type: 'integer' },
  { id: 'active_jobs', title: 'Active Jobs', source: 'jobs', data_type: 'integer' },
];

export const SEED_MONITORS: Fields[] = MONITORS.map(({ rate, ...m }, index) => ({
  ...m,
  icon: '',
  notes: '',
  display: true,
  groups: [],
  sort_order: index,
  ...(rate ? { delta: true, divide_by_delta: true, delta_min_value: 0 } : {}),
}));

const alert = (id: string, title: string, expression: string, monitor_id: string, message: string, extra: Fields = {}): Fields => ({
  id,
  title,
  expression,
  monitor_id,
  message,
  enabled: true,
  samples: 1,
  groups: [],
  actions: [],
  icon: '',
  notes: '',
  ...extra,
});

export const SEED_ALERTS: Fields[] = [
  alert(
    'load_avg_high',
    'High CPU Load',
    'monitors.load_avg >= (cpu.cores + 1)',
    'load_avg',
    'CPU load average is too high: {{float(monitors.load_avg)}} ({{cpu.cores}} CPU cores)',
  ),
  alert(
    'mem_free_low',
    'Low Memory',
    'memory.available < (memory.total * 0.05)',
    'mem_free',
    'Available memory is too low: {{bytes(memory.available)}} of {{bytes(memory.total)}}',
  ),
  alert('io_wait_high', 'High I/O Wait', 'monitors.io_wait >= 75', 'io_wait', 'I/O wait is too high: {{float(monitors.io_wait)}}%'),
  alert(
    'disk_usage_root_high',
    'Disk Full',
    'monitors.disk_usage_root >= 90',
    'disk_usage_root',
    'The root filesystem is almost full: {{float(monitors.disk_usage_root)}}%',
  ),
  alert(
    'active_jobs_high',
    'High Active Jobs',
    'monitors.active_jobs >= 50',
    'active_jobs',
    'Too many active jobs: {{monitors.active_jobs}}',
    {
      limit_jobs: true,
      abort_jobs: false,
    },
  ),
];

/** Collection → records and the activity type of each, in seeding order. */
export const SEED_DATA: ReadonlyArray<{ collection: string; type: string; records: Fields[] }> = [
  { collection: 'roles', type: 'role', records: SEED_ROLES },
  { collection: 'groups', type: 'group', records: SEED_GROUPS },
  { collection: 'plugins', type: 'plugin', records: SEED_PLUGINS },
  { collection: 'categories', type: 'category', records: SEED_CATEGORIES },
  { collection: 'channels', type: 'channel', records: SEED_CHANNELS },
  { collection: 'web_hooks', type: 'web_hook', records: SEED_WEB_HOOKS },
  { collection: 'tags', type: 'tag', records: SEED_TAGS },
  { collection: 'monitors', type: 'monitor', records: SEED_MONITORS },
  { collection: 'alerts', type: 'alert', records: SEED_ALERTS },
];
