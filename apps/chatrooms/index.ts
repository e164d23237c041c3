// The chat-room directory sample app, indexed by VOS name. A room is named after a VOS name its
// creator owns (checked on chain with name_owner), so finding a room by name finds who runs it; people
// then message the room's name with the comm service (`vos msg send NAME`).
//   create()  input "name\ttopic": only the name's current owner; returns 1
//   join()    input "name": adds the caller to the room's members; returns the member count
//   find()    input "name": outputs the room as JSON {name, owner, topic, height, members}; 0 when none
//   list()    outputs every room (up to 100) as a JSON array; returns their count
import { Context, Events, Input, Names, Output, Storage, bytesEqual, hex, jsonString } from "../sdk/index";

function room(name: string): string | null {
  return Storage.getString("r/" + name);
}

function withMembers(name: string, r: string): string {
  const n = Storage.getU64("n/" + name);
  return r.substring(0, r.length - 1) + ',"members":' + n.toString() + "}";
}

export function create(): u32 {
  const input = Input.text();
  const tab = input.indexOf("\t");
  const name = tab < 0 ? input : input.substring(0, tab);
  const topic = tab < 0 ? "" : input.substring(tab + 1);
  if (name.length == 0 || name.length > 63) abort("a room is named after a VOS name");
  if (topic.length > 200) abort("a topic is at most 200 characters");
  if (room(name) !== null) abort("this room exists");
  const found = Names.owner(name);
  if (found === null) abort("no such VOS name (register it first)");
  const owner = found!;
  if (!bytesEqual(owner, Context.caller())) abort("only the owner of the name creates its room");
  const r =
    '{"name":' + jsonString(name) + ',"owner":"' + hex(owner) + '","topic":' + jsonString(topic) +
    ',"height":' + Context.height().toString() + "}";
  Storage.setString("r/" + name, r);
  Events.emit("room", name);
  Output.text(r);
  return 1;
}

export function join(): u64 {
  const name = Input.text();
  if (room(name) === null) abort("no such room");
  const key = "m/" + name + "/" + hex(Context.caller());
  let n = Storage.getU64("n/" + name);
  if (Storage.get(key) === null) {
    Storage.setU64(key, <u64>Context.height());
    n++;
    Storage.setU64("n/" + name, n);
  }
  return n;
}

export function find(): u32 {
  const name = Input.text();
  const r = room(name);
  if (r === null) return 0;
  Output.text(withMembers(name, r));
  return 1;
}

export function list(): u32 {
  let out = "[";
  let n: u32 = 0;
  let key = Storage.next("r/");
  while (key !== null && key.startsWith("r/") && n < 100) {
    const name = key.substring(2);
    if (n > 0) out += ",";
    out += withMembers(name, Storage.getString(key)!);
    n++;
    key = Storage.next(key);
  }
  Output.text(out + "]");
  return n;
}
