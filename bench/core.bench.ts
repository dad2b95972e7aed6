import { EventFd, type PhysAddr, PhysicalMemory } from '@vfiokit/core';
import { medianMs, printTable } from './measure.js';

const OPS = 1_000_000;

export default function run(): void {
  const memory = new PhysicalMemory();
  memory.allocate(0x4000_0000 as PhysAddr, 0x4000_0000);
  const u32 = medianMs(() => {
    for (let i = 0; i < OPS; i++)
      memory.writeU32((0x4000_0000 + ((i * 4) % 0x100_0000)) as PhysAddr, i >>> 0);
    for (let i = 0; i < OPS; i++) memory.readU32((0x4000_0000 + ((i * 4) % 0x100_0000)) as PhysAddr);
  });
  const block = new Uint8Array(4096);
  const copy = medianMs(() => {
    for (let i = 0; i < 4096; i++) memory.write((0x4000_0000 + i * 4096) as PhysAddr, block);
    for (let i = 0; i < 4096; i++) memory.read((0x4000_0000 + i * 4096) as PhysAddr, block);
  });
  const eventfd = new EventFd();
  let seen = 0;
  eventfd.on('signal', () => {
    seen++;
  });
  const signal = medianMs(() => {
    for (let i = 0; i < OPS; i++) eventfd.signal();
    eventfd.consume();
  });
  printTable(
    ['operation', 'rate'],
    [
      ['PhysicalMemory u32 write+read', `${((2 * OPS) / u32 / 1000).toFixed(1)} M ops/s`],
      ['PhysicalMemory 4 KiB write+read', `${((2 * 4096 * 4096) / copy / 1000).toFixed(0)} MB/s`],
      ['EventFd.signal with one listener', `${(OPS / signal / 1000).toFixed(1)} M signals/s`],
    ],
  );
  if (seen === 0) throw new RangeError('eventfd listener never ran');
}
