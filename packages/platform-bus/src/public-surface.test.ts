// Internals stay internal (issue #9, item 25): the package index exports no bookkeeping, and
// the public classes carry none as properties (the published .d.ts only shows `#private`).
import { describe, expect, it } from 'vitest';
import * as api from './index.js';
import { errnoOf } from './test-helpers.js';

describe('the public surface', () => {
  it('exports no internal state types or accessors', () => {
    for (const name of ['stateOf', 'DeviceState', 'DeferredProbe', 'registerCore', 'contextOf']) {
      expect(Object.keys(api)).not.toContain(name);
    }
  });

  it('devices, buses and the core carry no bookkeeping properties', () => {
    const core = new api.DriverCore();
    const device = core.platform.addDevice({ name: 'd0', bus: 'platform' });
    expect(Object.keys(device)).not.toContain('state');
    expect(Object.keys(device)).not.toContain('core');
    expect(Object.keys(core.platform)).not.toContain('core');
    expect('deferredAdd' in core).toBe(false);
    expect('devicePaths' in core).toBe(false);
  });

  it('a Bus cannot be made without a DriverCore: a typed EINVAL, not a bare TypeError', () => {
    expect(errnoOf(() => new api.Bus('platform', {}))).toBe('EINVAL');
  });
});
