/**
 * Exit statuses. 2 is bad input or usage, as dtc, grep and most Unix tools use it; 1 is an
 * internal failure (a bug: the one line asks for a report).
 */
export const EXIT_OK = 0;
export const EXIT_INTERNAL = 1;
export const EXIT_USAGE = 2;
