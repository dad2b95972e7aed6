/**
 * The JSON Schema (draft-07) of `vfiokit analyze --format json`, shipped in the package:
 * `import { ANALYZE_JSON_SCHEMA } from '@vfiokit/cli'`, or `vfiokit analyze --schema`.
 * Every object is closed (`additionalProperties: false`), so a field the README does not
 * document cannot appear.
 */

const nodePath = { type: 'string', pattern: '^/' } as const;
const strings = { type: 'array', items: { type: 'string' } } as const;

export const ANALYZE_JSON_SCHEMA: Readonly<Record<string, unknown>> = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://vfiokit.dev/schema/analyze-v1.json',
  title: 'vfiokit analyze',
  description:
    'What each device of a device tree can pass through to a VM, by which path, and what stands in the way.',
  type: 'object',
  additionalProperties: false,
  required: ['source', 'settings', 'devices', 'groups'],
  properties: {
    source: { type: 'string', description: 'The file analysed, or "demo-soc (built in)".' },
    settings: {
      type: 'object',
      additionalProperties: false,
      required: [
        'kernel',
        'reset_required',
        'allow_unsafe_interrupts',
        'enable_unsafe_noiommu_mode',
        'dma_entry_limit',
        'reset_modules',
        'dma_policy',
        'emulated_generic',
      ],
      properties: {
        kernel: { type: 'string', pattern: '^[0-9]+\\.[0-9]+$' },
        reset_required: { type: 'boolean' },
        allow_unsafe_interrupts: { type: 'boolean' },
        enable_unsafe_noiommu_mode: { type: 'boolean' },
        dma_entry_limit: { type: 'integer', minimum: 0, maximum: 4294967295 },
        reset_modules: strings,
        dma_policy: {
          type: 'object',
          additionalProperties: false,
          required: ['overrides', 'dt_property', 'builtin_classes'],
          properties: {
            overrides: {
              type: 'array',
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['kind', 'value', 'verdict'],
                properties: {
                  kind: { enum: ['device', 'path', 'compatible'] },
                  value: { type: 'string', minLength: 1 },
                  verdict: { enum: ['master', 'non-master'] },
                },
              },
            },
            dt_property: { type: 'boolean' },
            builtin_classes: { type: 'boolean' },
          },
        },
        emulated_generic: { type: 'boolean' },
      },
    },
    devices: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: [
          'name',
          'bus',
          'compatible',
          'status',
          'dma',
          'iommu',
          'msi',
          'reset',
          'path',
          'assignable',
          'requires',
          'reasons',
          'dependencies',
        ],
        properties: {
          name: { type: 'string', minLength: 1 },
          bus: { enum: ['platform', 'amba'] },
          compatible: strings,
          status: { type: 'string' },
          dma: {
            type: 'object',
            additionalProperties: false,
            required: ['verdict', 'reason'],
            properties: {
              verdict: { enum: ['master', 'non-master', 'unknown'] },
              reason: { type: 'string' },
            },
          },
          iommu: {
            oneOf: [
              { type: 'null' },
              {
                type: 'object',
                additionalProperties: false,
                required: ['node', 'streamIds', 'group'],
                properties: {
                  node: nodePath,
                  streamIds: { type: 'array', items: { type: 'integer', minimum: 0 } },
                  group: { oneOf: [{ type: 'null' }, { type: 'integer', minimum: 0 }] },
                },
              },
            ],
          },
          msi: {
            oneOf: [
              { type: 'null' },
              {
                type: 'object',
                additionalProperties: false,
                required: ['parent', 'isolated'],
                properties: { parent: nodePath, isolated: { type: 'boolean' } },
              },
            ],
          },
          reset: {
            oneOf: [
              { type: 'null' },
              {
                type: 'object',
                additionalProperties: false,
                required: ['provider', 'name', 'deprecated'],
                properties: {
                  provider: { enum: ['module', 'reset-controller', 'none'] },
                  name: { type: ['string', 'null'] },
                  deprecated: { type: ['string', 'null'] },
                },
              },
            ],
          },
          path: { enum: ['smmu', 'emulated', 'noiommu', null] },
          assignable: { type: 'boolean' },
          requires: strings,
          reasons: strings,
          dependencies: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['kind', 'node', 'owner'],
              properties: {
                kind: {
                  enum: ['clock', 'reset', 'power-domain', 'pinctrl', 'phy', 'dma', 'interrupt-parent'],
                },
                node: nodePath,
                owner: { enum: ['host', 'irrelevant'] },
              },
            },
          },
        },
      },
    },
    groups: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'iommu', 'devices', 'viable'],
        properties: {
          id: { type: 'integer', minimum: 0 },
          iommu: nodePath,
          devices: { type: 'array', items: { type: 'string' }, minItems: 1 },
          viable: { type: 'boolean' },
        },
      },
    },
  },
};
