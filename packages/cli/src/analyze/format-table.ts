import type { DeviceAnalysis, HostAnalysis } from '@vfiokit/host';

/** The table's width limit: an 80-column terminal. */
export const TABLE_WIDTH = 80;

export interface TableOptions {
  /** ANSI colours for verdicts (the command decides: a TTY without NO_COLOR, or --color). */
  readonly color: boolean;
  /** Print each device's reasons under its row. */
  readonly reasons: boolean;
}

const ANSI = { green: '32', yellow: '33', red: '31', dim: '2', bold: '1' } as const;

/** Short codes of requirements for the NEEDS column; the legend below the table spells them out. */
const NEED_CODES: readonly { readonly code: string; readonly match: RegExp; readonly text: string }[] = [
  { code: 'irq', match: /^allow_unsafe_interrupts=1$/, text: 'allow_unsafe_interrupts=1' },
  { code: 'noiommu', match: /^enable_unsafe_noiommu_mode=1$/, text: 'enable_unsafe_noiommu_mode=1 (taints)' },
  {
    code: 'generic',
    match: /^emulated_generic=1$/,
    text: 'emulated_generic=1 (the RFC generic emulated route)',
  },
  { code: 'reset', match: /^reset_required=0/, text: 'reset_required=0 or a reset module' },
  { code: 'dma', match: /^dma_override=/, text: 'a DMA-capability override (non-master)' },
  { code: 'unbind', match: /^unbind /, text: 'unbind the other members of its IOMMU group' },
];

function needCodes(device: DeviceAnalysis): string[] {
  const codes: string[] = [];
  for (const requirement of device.requires) {
    const code = NEED_CODES.find((entry) => entry.match.test(requirement))?.code ?? requirement;
    if (!codes.includes(code)) codes.push(code);
  }
  return codes;
}

/** Cuts `text` to `width` characters, marking the cut with `…` in the middle (names keep both ends). */
export function fit(text: string, width: number): string {
  if (text.length <= width) return text;
  const head = Math.ceil((width - 1) / 2);
  return `${text.slice(0, head)}…${text.slice(text.length - (width - 1 - head))}`;
}

function paint(text: string, code: string, color: boolean): string {
  return color ? `\u001b[${code}m${text}\u001b[0m` : text;
}

const DMA_COLOUR: Readonly<Record<DeviceAnalysis['dma']['verdict'], string>> = {
  master: ANSI.red,
  'non-master': ANSI.green,
  unknown: ANSI.yellow,
};

function okColour(device: DeviceAnalysis): string {
  if (device.status !== 'okay') return ANSI.dim;
  if (device.assignable) return ANSI.green;
  return device.path === null ? ANSI.red : ANSI.yellow;
}

// Column widths: 26 + 4 + 10 + 8 + 3 + 3 + 6 separators = 60, leaving 20 for NEEDS.
const COLUMNS = { device: 26, bus: 4, dma: 10, path: 8, group: 3, ok: 3 } as const;
const NEEDS_WIDTH =
  TABLE_WIDTH - Object.values(COLUMNS).reduce((sum, width) => sum + width, 0) - Object.keys(COLUMNS).length;

function cell(text: string, width: number): string {
  return fit(text, width).padEnd(width);
}

/** Wraps `text` to `width` columns after `indent`, breaking at spaces (a long word is cut). */
export function wrap(text: string, indent: string, width: number = TABLE_WIDTH): string[] {
  const room = width - indent.length;
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    const candidate = line === '' ? word : `${line} ${word}`;
    if (candidate.length <= room) {
      line = candidate;
      continue;
    }
    if (line !== '') out.push(line);
    line = word;
    while (line.length > room) {
      out.push(line.slice(0, room));
      line = line.slice(room);
    }
  }
  if (line !== '') out.push(line);
  return out.map((l) => `${indent}${l}`);
}

/**
 * The human table: one row per device (name, bus, DMA verdict, path, IOMMU group, assignable,
 * what it needs as short codes), a legend of the codes used, the groups, and a count. Every
 * line fits 80 columns (colour codes aside).
 */
export function formatTable(analysis: HostAnalysis, options: TableOptions): string {
  const { color } = options;
  const lines: string[] = [];
  lines.push(...wrap(`vfiokit analyze: ${analysis.source} (Linux ${analysis.settings.kernel} host)`, ''));
  lines.push('');
  const header = [
    cell('DEVICE', COLUMNS.device),
    cell('BUS', COLUMNS.bus),
    cell('DMA', COLUMNS.dma),
    cell('PATH', COLUMNS.path),
    cell('GRP', COLUMNS.group),
    cell('OK', COLUMNS.ok),
    'NEEDS',
  ].join(' ');
  lines.push(paint(header, ANSI.bold, color));
  const used = new Set<string>();
  for (const device of analysis.devices) {
    const codes = needCodes(device);
    for (const code of codes) used.add(code);
    const group = device.iommu?.group;
    const ok = device.status !== 'okay' ? 'off' : device.assignable ? 'yes' : 'no';
    const row = [
      cell(device.name, COLUMNS.device),
      cell(device.bus === 'platform' ? 'plat' : 'amba', COLUMNS.bus),
      paint(cell(device.dma.verdict, COLUMNS.dma), DMA_COLOUR[device.dma.verdict], color),
      cell(device.path ?? '-', COLUMNS.path),
      cell(group === undefined || group === null ? '-' : String(group), COLUMNS.group),
      paint(cell(ok, COLUMNS.ok), okColour(device), color),
      fit(codes.length === 0 ? '-' : codes.join(','), NEEDS_WIDTH),
    ].join(' ');
    lines.push(row.trimEnd());
    if (options.reasons) {
      for (const reason of device.reasons)
        lines.push(...wrap(reason, '    - ').map((l, i) => (i === 0 ? l : `      ${l.slice(6)}`)));
    }
  }
  if (used.size > 0) {
    lines.push('');
    lines.push('NEEDS:');
    for (const entry of NEED_CODES)
      if (used.has(entry.code)) lines.push(...wrap(`${entry.code}: ${entry.text}`, '  '));
  }
  if (analysis.groups.length > 0) {
    lines.push('');
    lines.push('IOMMU GROUPS:');
    for (const group of analysis.groups) {
      const text = `${group.id} on ${group.iommu}${group.viable ? '' : ' (not viable)'}: ${group.devices.join(', ')}`;
      lines.push(...wrap(text, '  '));
    }
  }
  const enabled = analysis.devices.filter((d) => d.status === 'okay');
  const assignable = enabled.filter((d) => d.assignable).length;
  const withPath = enabled.filter((d) => !d.assignable && d.path !== null).length;
  lines.push('');
  lines.push(
    ...wrap(
      `${analysis.devices.length} devices (${analysis.devices.length - enabled.length} disabled): ` +
        `${assignable} assignable, ${withPath} need settings, ${enabled.length - assignable - withPath} have no path.` +
        (options.reasons ? '' : ' --reasons says why.'),
      '',
    ),
  );
  return `${lines.join('\n')}\n`;
}
