// The app store sample app. Apps are published with the publish service as kind=executable (the
// module's bytes are the content); the store lists them. Installing = instantiating the chosen code
// (`vos app install ID`, which also calls `installed` here).
//   submit()     input: the publish id (0x-hex). The record must be kind=executable and published by
//                the caller. Returns the number of apps in the store.
//   list()       outputs every app as JSON [{id, title, description, cid, owner, installs}]
//   search()     input: words; outputs the apps whose title or description holds every word (any case)
//   installed()  input: the publish id; counts an install; returns the install count
import { Events, Input, Output, Publish, Storage, Context, fromHex, hex, jsonString } from "../sdk/index";

function entry(id: string): string | null {
  return Storage.getString("a/" + id);
}

function withInstalls(id: string, e: string): string {
  return e.substring(0, e.length - 1) + ',"installs":' + Storage.getU64("i/" + id).toString() + "}";
}

export function submit(): u64 {
  const id = Input.text().toLowerCase();
  const parsed = fromHex(id);
  if (parsed === null || parsed.length != 32) abort("input: a publish id (0x + 64 hex)");
  const raw = parsed!;
  const kind = Publish.field(raw, "kind");
  if (kind === null) abort("no such publish record");
  if (kind != "executable") abort("only kind=executable records are apps");
  if (Publish.field(raw, "owner")! != hex(Context.caller())) abort("only the publisher submits an app");
  const key = hex(raw);
  if (entry(key) !== null) abort("already in the store");
  const title = Publish.field(raw, "title")!;
  const description = Publish.field(raw, "description")!;
  const e =
    '{"id":"' + key + '","title":' + jsonString(title) + ',"description":' + jsonString(description) +
    ',"cid":"' + Publish.field(raw, "cid")! + '","owner":"' + hex(Context.caller()) + '"}';
  Storage.setString("a/" + key, e);
  Storage.setString("t/" + key, (title + " " + description).toLowerCase());
  const n = Storage.getU64("count") + 1;
  Storage.setU64("count", n);
  Events.emit("submitted", key);
  return n;
}

function listWhere(words: string[]): u32 {
  let out = "[";
  let n: u32 = 0;
  let key = Storage.next("a/");
  while (key !== null && key.startsWith("a/") && n < 100) {
    const id = key.substring(2);
    const hay = Storage.getString("t/" + id)!;
    let all = true;
    for (let i = 0; i < words.length; i++) {
      if (words[i].length > 0 && !hay.includes(words[i])) all = false;
    }
    if (all) {
      if (n > 0) out += ",";
      out += withInstalls(id, Storage.getString(key)!);
      n++;
    }
    key = Storage.next(key);
  }
  Output.text(out + "]");
  return n;
}

export function list(): u32 {
  return listWhere([]);
}

export function search(): u32 {
  return listWhere(Input.text().toLowerCase().split(" "));
}

export function installed(): u64 {
  const id = Input.text().toLowerCase();
  if (entry(id) === null) abort("not in the store");
  const n = Storage.getU64("i/" + id) + 1;
  Storage.setU64("i/" + id, n);
  return n;
}
