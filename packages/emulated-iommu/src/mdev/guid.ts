import { KernelError } from '@vfiokit/core';

/** `UUID_STRING_LEN` (include/linux/uuid.h): 36 characters, without a terminator. */
export const UUID_STRING_LEN = 36;

// lib/uuid.c: the positions of the hyphens in "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx".
const HYPHENS = new Set([8, 13, 18, 23]);

/**
 * `guid_parse` (lib/uuid.c `__uuid_parse`): the first 36 characters must be hex digits (either
 * case, `hex_to_bin`) with hyphens at 8, 13, 18 and 23; anything after them is not looked at.
 * Returns the GUID in the canonical form the kernel prints (`%pUl`: lowercase); `EINVAL` else.
 */
export function guidParse(text: string): string {
  if (text.length < UUID_STRING_LEN) throw new KernelError('EINVAL', `'${text}' is too short for a UUID`);
  for (let i = 0; i < UUID_STRING_LEN; i++) {
    const c = text[i] ?? '';
    const ok = HYPHENS.has(i) ? c === '-' : /^[0-9a-fA-F]$/.test(c);
    if (!ok) throw new KernelError('EINVAL', `'${text}' is not a UUID (position ${i})`);
  }
  return text.slice(0, UUID_STRING_LEN).toLowerCase();
}
