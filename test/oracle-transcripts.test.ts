import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compareTranscripts,
  DEFAULT_MACHINE,
  DifferencesFormatError,
  dtbFileName,
  formatComparison,
  isHeaderLine,
  parseDifferences,
  parseScenario,
  runScenario,
  ScenarioError,
} from '../oracle/model/index.js';

// The model against the real kernel (issue 10): every scenario in oracle/scenarios with a
// transcript recorded by `npm run oracle -- --record` is replayed on @vfiokit/host and compared
// line by line and field by field, through oracle/differences.md. A scenario without a recorded
// transcript is skipped with its reason in the test name, never passed.

const oracle = fileURLToPath(new URL('../oracle/', import.meta.url));
const scenarios = existsSync(`${oracle}scenarios`)
  ? readdirSync(`${oracle}scenarios`)
      .filter((file) => file.endsWith('.scn'))
      .map((file) => file.slice(0, -'.scn'.length))
      .sort()
  : [];
const accepted = parseDifferences(readFileSync(`${oracle}differences.md`, 'utf8'));

function scenarioText(name: string): Uint8Array {
  return new Uint8Array(readFileSync(`${oracle}scenarios/${name}.scn`));
}

function machineOf(name: string): string {
  const line = parseScenario(scenarioText(name)).find(
    (l) => isHeaderLine(l) && new TextDecoder('latin1').decode(l.tokens[0]?.bytes) === 'machine',
  );
  return line === undefined
    ? DEFAULT_MACHINE
    : line.tokens
        .slice(1)
        .map((t) => new TextDecoder('latin1').decode(t.bytes))
        .join(' ');
}

async function compareWithKernel(name: string, hostOptions = {}) {
  const text = scenarioText(name);
  const kernel = readFileSync(`${oracle}transcripts/${name}.txt`, 'latin1');
  // A scenario error while running (the model answered so that the file no longer makes
  // sense, e.g. a job already finished) still compares what was printed up to there.
  const transcript = await runScenario(text, { name, dtbDir: `${oracle}dtb`, hostOptions }).then(
    (run) => run.transcript,
    (error: unknown) => {
      if (error instanceof ScenarioError && error.partialTranscript !== undefined)
        return error.partialTranscript;
      throw error;
    },
  );
  const lines = parseScenario(text);
  return compareTranscripts(name, lines, isHeaderLine, kernel, transcript, accepted);
}

describe('oracle: the model replays every scenario as the kernel did', () => {
  it('has scenarios', () => {
    expect(scenarios.length).toBeGreaterThan(0);
  });

  for (const name of scenarios) {
    const recorded = existsSync(`${oracle}transcripts/${name}.txt`);
    if (!recorded) {
      it.skip(`${name}: no kernel transcript recorded yet (npm run oracle -- --record ${name})`, () => {});
      continue;
    }
    it(`${name} matches the kernel's transcript`, async () => {
      const dtb = `${oracle}dtb/${dtbFileName(machineOf(name))}`;
      expect(existsSync(dtb), `${dtb} is missing: record it with npm run oracle -- --record ${name}`).toBe(
        true,
      );
      const comparison = await compareWithKernel(name);
      expect(comparison.ok, formatComparison(name, comparison)).toBe(true);
    });
  }

  it('every row of differences.md names a scenario that exists', () => {
    for (const row of accepted)
      expect(scenarios, `differences.md row for ${row.scenario}`).toContain(row.scenario);
  });
});

// A host built from QEMU virt's device tree (the copy @vfiokit/host keeps for its unit tests,
// so these run before the first recording too).
const dtb = new Uint8Array(
  readFileSync(new URL('../packages/host/fixtures/qemu-virt-gic-version-3.dtb', import.meta.url)),
);

const PLATFORM_RESET = `title planted
cmdline vfio.enable_unsafe_noiommu_mode=1 vfio_platform.reset_required=0
write /sys/bus/platform/devices/9020000.fw-cfg/driver_override vfio-platform
write /sys/bus/platform/drivers/vfio-platform/bind 9020000.fw-cfg
ls /dev/vfio
`;

describe('oracle: the comparison fails on a planted difference', () => {
  it('a host option that flips one errno (reset_required) is reported with its line and field', async () => {
    const lines = parseScenario(PLATFORM_RESET);
    const honest = await runScenario(PLATFORM_RESET, { dtb });
    const planted = await runScenario(PLATFORM_RESET, { dtb, hostOptions: { reset_required: true } });
    expect(honest.transcript).toContain('9020000.fw-cfg -> 14\n');
    const comparison = compareTranscripts(
      'planted',
      lines,
      isHeaderLine,
      honest.transcript,
      planted.transcript,
      [],
    );
    expect(comparison.ok).toBe(false);
    expect(comparison.unexplained).toContainEqual({
      line: 4,
      echo: 'write /sys/bus/platform/drivers/vfio-platform/bind 9020000.fw-cfg',
      field: 'result',
      kernel: '14',
      model: 'ENOENT',
    });
  });

  it('against a recorded kernel transcript too, when one exists', async (context) => {
    const name = 'platform-vfio-noreset';
    if (!existsSync(`${oracle}transcripts/${name}.txt`)) {
      context.skip(`${name}: no kernel transcript recorded yet`);
      return;
    }
    const comparison = await compareWithKernel(name, { reset_required: true });
    expect(comparison.ok).toBe(false);
    expect(comparison.unexplained.some((d) => d.kernel !== 'ENOENT' && d.model === 'ENOENT')).toBe(true);
  });

  it('a row of differences.md explains exactly its difference; an unmatched row is stale', async () => {
    const oneLine = PLATFORM_RESET.replace('ls /dev/vfio\n', '');
    const lines = parseScenario(oneLine);
    const honest = await runScenario(oneLine, { dtb });
    const planted = await runScenario(oneLine, { dtb, hostOptions: { reset_required: true } });
    const row = {
      scenario: 'planted',
      line: 4,
      field: 'result',
      kernel: '14',
      model: 'ENOENT',
      reason: 'test',
    };
    const explained = compareTranscripts(
      'planted',
      lines,
      isHeaderLine,
      honest.transcript,
      planted.transcript,
      [row],
    );
    expect(explained.ok).toBe(true);
    expect(explained.explained.map((e) => e.reason)).toEqual(['test']);
    const stale = compareTranscripts('planted', lines, isHeaderLine, honest.transcript, honest.transcript, [
      row,
    ]);
    expect(stale.ok).toBe(false);
    expect(stale.stale).toEqual([row]);
    const wrongValue = compareTranscripts(
      'planted',
      lines,
      isHeaderLine,
      honest.transcript,
      planted.transcript,
      [{ ...row, model: 'EINVAL' }],
    );
    expect(wrongValue.ok).toBe(false);
  });

  it('compares ioctl results field by field', () => {
    const scenario = 'open C /dev/vfio/vfio\nioctl C VFIO_IOMMU_GET_INFO\n';
    const lines = parseScenario(scenario);
    const kernel =
      'open C /dev/vfio/vfio -> ok\nioctl C VFIO_IOMMU_GET_INFO -> ret=0 flags=0x1 iova_pgsizes=0x1000\n';
    const model =
      'open C /dev/vfio/vfio -> ok\nioctl C VFIO_IOMMU_GET_INFO -> ret=0 flags=0x3 iova_pgsizes=0x1000\n';
    const comparison = compareTranscripts('s', lines, isHeaderLine, kernel, model, []);
    expect(comparison.unexplained).toEqual([
      { line: 2, echo: 'ioctl C VFIO_IOMMU_GET_INFO', field: 'flags', kernel: '0x1', model: '0x3' },
    ]);
  });

  it('a missing or extra line is a difference, never skipped', () => {
    const lines = parseScenario('exists /dev/vfio/vfio\nexists /proc\n');
    const full = 'exists /dev/vfio/vfio -> yes\nexists /proc -> yes\n';
    const cut = 'exists /dev/vfio/vfio -> yes\n';
    expect(compareTranscripts('s', lines, isHeaderLine, full, cut, []).ok).toBe(false);
    expect(compareTranscripts('s', lines, isHeaderLine, cut, full, []).ok).toBe(false);
    expect(compareTranscripts('s', lines, isHeaderLine, full, `${full}extra -> 1\n`, []).ok).toBe(false);
  });
});

describe('oracle: the model runner follows FORMAT.md', () => {
  it('echoes headers and normalized commands, quotes canonically, prints errno names', async () => {
    const { transcript } = await runScenario(
      'title  t\n# comment\n\nread   /sys/bus/amba/devices/9010000.pl031/driver_override\nwrite /nope "a\\x01\\"b"\nls /dev/vfio\n',
      { dtb },
    );
    expect(transcript).toBe(
      'title t\n' +
        'read /sys/bus/amba/devices/9010000.pl031/driver_override -> "(null)\\n"\n' +
        'write /nope "a\\x01\\"b" -> ENOENT\n' +
        'ls /dev/vfio -> vfio\n',
    );
  });

  it('refuses a scenario error before running anything', async () => {
    await expect(runScenario('close X\n', { dtb })).rejects.toBeInstanceOf(ScenarioError);
    await expect(runScenario('exists /a\ntitle late\n', { dtb })).rejects.toBeInstanceOf(ScenarioError);
    await expect(runScenario('write "unterminated\n', { dtb })).rejects.toBeInstanceOf(ScenarioError);
    await expect(runScenario('bg J open X /dev/vfio/vfio\n', { dtb })).rejects.toBeInstanceOf(ScenarioError);
  });

  it('a failed name stands for fd -1: EBADF, and poll of it times out', async () => {
    const { transcript } = await runScenario(
      'open G /dev/vfio/7\nioctl G VFIO_GROUP_GET_STATUS\npoll G 10\nclose G\n',
      {
        dtb,
      },
    );
    expect(transcript).toBe(
      'open G /dev/vfio/7 -> ENOENT\nioctl G VFIO_GROUP_GET_STATUS -> EBADF\npoll G 10 -> timeout\nclose G -> EBADF\n',
    );
  });

  it('a background unbind blocks while the device fd is open and completes on close', async () => {
    const { transcript } = await runScenario(
      [
        'cmdline vfio.enable_unsafe_noiommu_mode=1',
        'write /sys/bus/amba/devices/9010000.pl031/driver_override vfio-amba',
        'write /sys/bus/amba/drivers/rtc-pl031/unbind 9010000.pl031',
        'write /sys/bus/amba/drivers/vfio-amba/bind 9010000.pl031',
        'open C /dev/vfio/vfio',
        'open G /dev/vfio/noiommu-0',
        'ioctl G VFIO_GROUP_SET_CONTAINER C',
        'ioctl C VFIO_SET_IOMMU VFIO_NOIOMMU_IOMMU',
        'ioctl G VFIO_GROUP_GET_DEVICE_FD 9010000.pl031 D',
        'bg J write /sys/bus/amba/drivers/vfio-amba/unbind 9010000.pl031',
        'wait J 500',
        'close D',
        'wait J 500',
        '',
      ].join('\n'),
      { dtb },
    );
    expect(transcript.split('\n').slice(-5)).toEqual([
      'bg J write /sys/bus/amba/drivers/vfio-amba/unbind 9010000.pl031 -> started',
      'wait J 500 -> blocked',
      'close D -> ok',
      'wait J 500 -> 13',
      '',
    ]);
  });

  it('a background poll waits while the parent runs: the alarm the parent unmasks reaches it', async () => {
    const { transcript } = await runScenario(
      [
        'cmdline vfio.enable_unsafe_noiommu_mode=1',
        'write /sys/bus/amba/devices/9010000.pl031/driver_override vfio-amba',
        'write /sys/bus/amba/drivers/rtc-pl031/unbind 9010000.pl031',
        'write /sys/bus/amba/drivers/vfio-amba/bind 9010000.pl031',
        'open C /dev/vfio/vfio',
        'open G /dev/vfio/noiommu-0',
        'ioctl G VFIO_GROUP_SET_CONTAINER C',
        'ioctl C VFIO_SET_IOMMU VFIO_NOIOMMU_IOMMU',
        'ioctl G VFIO_GROUP_GET_DEVICE_FD 9010000.pl031 D',
        'eventfd E',
        'ioctl D VFIO_DEVICE_SET_IRQS DATA_EVENTFD|ACTION_TRIGGER 0 0 1 E',
        'bg J poll E 3000',
        'bg S sleep 300',
        'wait J 100',
        'pwrite D 0x04 00200000',
        'pwrite D 0x08 00200000',
        'pwrite D 0x10 01000000',
        'wait J 3000',
        'wait S 1000',
        '',
      ].join('\n'),
      { dtb },
    );
    expect(transcript.split('\n').slice(-8, -1)).toEqual([
      'bg S sleep 300 -> started',
      'wait J 100 -> blocked',
      'pwrite D 0x04 00200000 -> 4',
      'pwrite D 0x08 00200000 -> 4',
      'pwrite D 0x10 01000000 -> 4',
      'wait J 3000 -> count=1',
      'wait S 1000 -> ok',
    ]);
  });

  it('is deterministic: any sequence of recipe and VFIO commands gives the same transcript twice (property)', async () => {
    const pl031 = '9010000.pl031';
    const commands = fc.constantFrom(
      `write /sys/bus/amba/devices/${pl031}/driver_override vfio-amba`,
      `write /sys/bus/amba/devices/${pl031}/driver_override "\\n"`,
      `write /sys/bus/amba/drivers/rtc-pl031/unbind ${pl031}`,
      `write /sys/bus/amba/drivers/rtc-pl031/bind ${pl031}`,
      `write /sys/bus/amba/drivers/vfio-amba/bind ${pl031}`,
      `write /sys/bus/amba/drivers_probe ${pl031}`,
      `readlink /sys/bus/amba/devices/${pl031}/driver`,
      'ls /dev/vfio',
      'read /proc/sys/kernel/tainted',
      'ls /sys/kernel/iommu_groups',
      'ioctl C VFIO_CHECK_EXTENSION VFIO_NOIOMMU_IOMMU',
      'ioctl G VFIO_GROUP_GET_STATUS',
      'ioctl G VFIO_GROUP_SET_CONTAINER C',
      'ioctl C VFIO_SET_IOMMU VFIO_NOIOMMU_IOMMU',
      'pread G 0 4',
      'sleep 700',
    );
    await fc.assert(
      fc.asyncProperty(fc.array(commands, { maxLength: 12 }), async (body) => {
        const scenario = [
          'cmdline vfio.enable_unsafe_noiommu_mode=1',
          'open C /dev/vfio/vfio',
          'open G /dev/vfio/noiommu-0',
          ...body,
          '',
        ].join('\n');
        const first = await runScenario(scenario, { dtb });
        const second = await runScenario(scenario, { dtb });
        expect(second.transcript).toBe(first.transcript);
        expect(first.transcript.split('\n').length).toBe(body.length + 4);
      }),
      { numRuns: 25 },
    );
  });

  it('parses differences.md strictly', () => {
    const header = '| scenario | line | field | kernel | model | reason |\n|---|---|---|---|---|---|\n';
    expect(parseDifferences(`${header}| s | 3 | \`flags\` | 0x1 | 0x3 | why \\| not |\n`)).toEqual([
      { scenario: 's', line: 3, field: 'flags', kernel: '0x1', model: '0x3', reason: 'why | not' },
    ]);
    expect(() => parseDifferences(`${header}| s | 3 | flags | 0x1 | 0x3 |  |\n`)).toThrow(
      DifferencesFormatError,
    );
    expect(() => parseDifferences(`${header}| s | x | flags | 0x1 | 0x3 | r |\n`)).toThrow(
      DifferencesFormatError,
    );
  });
});
