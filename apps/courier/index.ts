// The courier sample app, hosted off chain only (it imports the off-chain host API, so it is created
// with `vos app deploy --hosted` and served by a node with `vos app serve`):
//   store()   input: bytes; stores them in distributed storage (within the hosting node's quota),
//             keeps the id in the app's state and outputs it; returns the number of stored items
//   fetch()   input: an id stored before; outputs its bytes (0 when unknown)
//   notify()  input "name\ttext": sends the text to a VOS name (or address) through the comm service;
//             returns 1 when sent
//   find()    input: words; outputs the publish index's matches as JSON
import { Context, Hosted, Input, Output, Storage, hex, pad } from "../sdk/index";

export function store(): u64 {
  const data = Input.bytes();
  if (data.length == 0) abort("nothing to store");
  const id = Hosted.put(data);
  const n = Storage.getU64("count");
  Storage.setString("s/" + pad(n), id + "\t" + hex(Context.caller()));
  Storage.setU64("count", n + 1);
  Output.text(id);
  return n + 1;
}

export function fetch(): u32 {
  const data = Hosted.get(Input.text());
  if (data === null) return 0;
  Output.bytes(data);
  return 1;
}

export function notify(): u32 {
  const input = Input.text();
  const tab = input.indexOf("\t");
  if (tab <= 0) abort("input: name<TAB>text");
  return Hosted.send(input.substring(0, tab), input.substring(tab + 1)) ? 1 : 0;
}

export function find(): u32 {
  Output.text(Hosted.find(Input.text()));
  return 1;
}
