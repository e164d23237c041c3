/**
 * Static limits of a module (consensus rules: part of the instrumenter version). Far below V8's own,
 * so a module V8 would refuse, or compile slowly, never reaches it.
 */
export const WASM_LIMITS = {
  /** Module bytes. */
  moduleBytes: 2 * 1024 * 1024,
  types: 1024,
  params: 32,
  imports: 256,
  functions: 10_000,
  /** Locals of one function (declared, beyond its params), with the instrumenter's (RESERVED_LOCALS). */
  locals: 1024,
  globals: 512,
  tables: 1,
  tableElements: 16_384,
  /** Pages of 64 KiB: 16 MiB. */
  memoryPages: 256,
  exports: 1024,
  elementSegments: 1024,
  dataSegments: 1024,
  /** Bytes of one function body. */
  bodyBytes: 256 * 1024,
  /** Nesting of block/loop/if in one function. */
  nesting: 256,
  /** Targets of one br_table. */
  brTable: 1024,
  nameBytes: 256,
} as const;

/** Locals the instrumenter may add to a function (a temporary for memory.grow's charge). */
export const RESERVED_LOCALS = 1;

/** Gas costs beyond one per instruction (consensus rules: part of the instrumenter version). */
export const GAS_COSTS = {
  /** Each page memory.grow asks for (charged before it runs, whether it succeeds or not). */
  memoryPage: 10_000,
} as const;
