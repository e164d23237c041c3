// The VOS host API as AssemblyScript sees it (imports from "env"; the node's vm/host.ts implements
// them, checks their types at deploy and charges each call base + per byte before the work).

/** Reads the value of `key` into `out` (up to `cap` bytes); returns its length, or -1 when absent. */
@external("env", "storage_get")
export declare function storage_get(key: usize, keyLen: u32, out: usize, cap: u32): i32;
@external("env", "storage_set")
export declare function storage_set(key: usize, keyLen: u32, value: usize, valueLen: u32): void;
@external("env", "storage_delete")
export declare function storage_delete(key: usize, keyLen: u32): void;
/** The first key after `key` in byte order (keyLen 0: the first key); its length, or -1 at the end. */
@external("env", "storage_next")
export declare function storage_next(key: usize, keyLen: u32, out: usize, cap: u32): i32;

@external("env", "input_len")
export declare function input_len(): i32;
@external("env", "input_read")
export declare function input_read(out: usize, cap: u32): i32;
@external("env", "output")
export declare function output(ptr: usize, len: u32): void;

@external("env", "caller")
export declare function caller(out: usize): void;
@external("env", "self")
export declare function self(out: usize): void;
@external("env", "block_height")
export declare function block_height(): i64;
@external("env", "block_time")
export declare function block_time(): i64;

@external("env", "emit")
export declare function emit(topic: usize, topicLen: u32, data: usize, dataLen: u32): void;
@external("env", "log")
export declare function log(ptr: usize, len: u32): void;

/** 1 and the owner's 20-byte address in `out` when `name` is an active VOS name, else 0. */
@external("env", "name_owner")
export declare function name_owner(name: usize, nameLen: u32, out: usize): i32;
/** A field (owner, cid, kind, title, description, mime, tags, size, publishedAt) of publish record `id`. */
@external("env", "publish_field")
export declare function publish_field(id: usize, field: usize, fieldLen: u32, out: usize, cap: u32): i32;

@external("env", "balance")
export declare function balance(): i64;
/** Sends `amount` from the app's account; 0 when done, 1 when the balance is short. */
@external("env", "transfer")
export declare function transfer(to: usize, amount: i64): i32;

// Off chain only: an app that imports these is created with --hosted and served by nodes.
@external("env", "dstore_put")
export declare function dstore_put(data: usize, len: u32, out: usize, cap: u32): i32;
@external("env", "dstore_get")
export declare function dstore_get(id: usize, idLen: u32, out: usize, cap: u32): i32;
@external("env", "comm_send")
export declare function comm_send(to: usize, toLen: u32, text: usize, textLen: u32): i32;
@external("env", "search")
export declare function search(q: usize, qLen: u32, out: usize, cap: u32): i32;
