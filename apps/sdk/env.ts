// The VOS host API as AssemblyScript sees it (imports from "env"; the node's vm/host.ts implements
// them and charges each call base + per byte before the work).

/** Reads the value of `key` into `out` (up to `cap` bytes); returns its length, or -1 when absent. */
@external("env", "storage_get")
export declare function storage_get(key: usize, keyLen: u32, out: usize, cap: u32): i32;

@external("env", "storage_set")
export declare function storage_set(key: usize, keyLen: u32, value: usize, valueLen: u32): void;

@external("env", "storage_delete")
export declare function storage_delete(key: usize, keyLen: u32): void;
