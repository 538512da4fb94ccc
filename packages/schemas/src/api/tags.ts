/** Tags (api-sections §6). */
import { crudApi } from '../crud.js';
import { Tag } from '../records/tag.js';

export const tagsApi = crudApi({
  singular: 'tag',
  plural: 'tags',
  idPrefix: 't',
  record: Tag,
  privileges: { create: 'create_tags', edit: 'edit_tags', delete: 'delete_tags' },
});
