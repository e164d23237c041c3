/**
 * Why a module is refused: `WASM_MALFORMED` (not a valid binary), `WASM_FORBIDDEN` (a feature outside
 * the allowlist: MVP + sign-ext, no floats), `WASM_LIMIT` (over a static limit). `rule` names the rule
 * (e.g. "simd", "float", "br-table-size"); `offset` is the byte offset in the module.
 */
import { VosError } from '../../util/errors.js';

export type WasmErrorCode = 'WASM_MALFORMED' | 'WASM_FORBIDDEN' | 'WASM_LIMIT';

export class WasmError extends VosError<{ code: WasmErrorCode; rule: string; offset: number }> {
  constructor(code: WasmErrorCode, rule: string, offset: number, message: string) {
    super({ code, rule, offset }, `${message} (rule ${rule}, at byte ${offset})`);
  }

  get rule(): string {
    return this.type.rule;
  }
}
