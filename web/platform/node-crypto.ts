/**
 * `node:crypto` for the web app's bundle (web/build.mjs maps the import here). The light client needs
 * no OpenSSL: hashing comes from chain-hash.ts and signatures are checked with @noble/curves
 * (chain/ed25519-rule.ts verifyEd25519Portable). chain/keys.ts is still imported for its constants;
 * its signing functions fail loudly if the page ever calls them.
 */
function unavailable(name: string): never {
  throw new Error(
    `node:crypto ${name} is not available in the web app (the page signs with @noble/curves: web/src/wallet.ts)`,
  );
}

export const createPrivateKey = (): never => unavailable('createPrivateKey');
export const createPublicKey = (): never => unavailable('createPublicKey');
export const randomBytes = (): never => unavailable('randomBytes');
export const sign = (): never => unavailable('sign');
export const verify = (): never => unavailable('verify');
export const createHash = (): never => unavailable('createHash');
export const hash = (): never => unavailable('hash');
