/** The version `vfiokit --version` prints: this package's version (a test keeps them equal). */
export const VERSION = '0.1.0';
