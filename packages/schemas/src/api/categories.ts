/** Categories (seed 001 §Categories): CRUD plus multi_update_category (sort order). */
import { crudApi } from '../crud.js';
import { Category } from '../records/category.js';

export const categoriesApi = crudApi({
  singular: 'category',
  plural: 'categories',
  idPrefix: 'ca',
  record: Category,
  privileges: { create: 'create_categories', edit: 'edit_categories', delete: 'delete_categories' },
  multiUpdate: true,
});
