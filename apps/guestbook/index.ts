// The guestbook sample app. `sign` adds the call's input (UTF-8 text, 1-280 bytes) as an entry signed
// by the caller at this height and returns the entry count; `count` returns it; `list(from, limit)`
// outputs entries [from, from + limit) as JSON [{n, by, height, text}].
import { Context, Events, Input, Output, Storage, hex, jsonString, pad } from "../sdk/index";

const MAX_TEXT = 280;

export function sign(): u64 {
  const body = Input.bytes();
  if (body.length == 0 || body.length > MAX_TEXT) abort("an entry is 1 to 280 bytes of text");
  const n = Storage.getU64("count");
  const entry =
    '{"n":' + n.toString() +
    ',"by":"' + hex(Context.caller()) +
    '","height":' + Context.height().toString() +
    ',"text":' + jsonString(Input.text()) + "}";
  Storage.setString("e/" + pad(n), entry);
  Storage.setU64("count", n + 1);
  Events.emit("signed", entry);
  Output.text(entry);
  return n + 1;
}

export function count(): u64 {
  return Storage.getU64("count");
}

export function list(from: u64, limit: u64): u64 {
  const n = Storage.getU64("count");
  let out = "[";
  let shown: u64 = 0;
  for (let i = from; i < n && shown < limit && shown < 100; i++) {
    const e = Storage.getString("e/" + pad(i));
    if (e === null) continue;
    if (shown > 0) out += ",";
    out += e;
    shown++;
  }
  Output.text(out + "]");
  return shown;
}
