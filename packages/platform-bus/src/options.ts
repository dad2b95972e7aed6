/**
 * The keys of an options type, listed once as a record so the compiler checks the list is
 * complete (a key missing from the record, or one the type lacks, is a type error); the
 * result feeds `rejectUnknownOptions` from `@vfiokit/core`.
 */
export function optionKeys<T extends object>(
  record: Record<keyof T & string, true>,
): readonly (keyof T & string)[] {
  return Object.keys(record) as (keyof T & string)[];
}
