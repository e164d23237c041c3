// The counter sample app: `increment` adds one to the stored count and returns it; `get` reads it.
import { Storage } from "../sdk/index";

export function increment(): u64 {
  const n = Storage.getU64("count") + 1;
  Storage.setU64("count", n);
  return n;
}

export function get(): u64 {
  return Storage.getU64("count");
}
