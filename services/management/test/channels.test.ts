import t from 'tap';
import { crudTable } from './crud-table.js';

crudTable(t, {
  singular: 'channel',
  plural: 'channels',
  create: { title: 'Severity 1', users: ['admin'], sound: 'attention-3.mp3', max_per_day: 0, notes: 'Wake everyone up' },
  update: { title: 'Severity 1 Alerts', max_per_day: 5 },
  required: ['title'],
  wrongType: {
    users: [{ name: 'admin' }],
    max_per_day: -1,
    sound: 'x.wav',
    web_hook: 'Not An Id',
    enabled: 'yes please',
    unknown_field: 1,
  },
  privileges: { create: 'create_channels', edit: 'edit_channels', delete: 'delete_channels' },
  defaults: { enabled: true, email: '', web_hook: '', run_event: '', icon: '' },
});
