/**
 * Tokenization for the search index, the same for documents and queries: letters and digits of any
 * script in lower case (NFKC), split at everything else; runs of Han, Hiragana, Katakana and Hangul
 * (written without spaces) become overlapping bigrams, so any word of two or more characters inside
 * 基于区块链技术的操作系统 (区块链 = 区块 + 块链) is found without a dictionary. Bigrams are of code
 * points, so CJK beyond the BMP (𠀀, U+20000) stays whole; every token tokenizes to itself, which the
 * index relies on when it looks a query token up.
 */
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
const WORD = /[\p{L}\p{N}]+/gu;

export function tokenize(text: string): string[] {
  const out: string[] = [];
  for (const m of text.normalize('NFKC').toLowerCase().matchAll(WORD)) {
    let run: string[] = [];
    const flush = () => {
      if (run.length === 1) out.push(run[0]);
      for (let i = 0; i + 1 < run.length; i++) out.push(run[i] + run[i + 1]);
      run = [];
    };
    let latin = '';
    for (const ch of m[0]) {
      if (CJK.test(ch)) {
        if (latin !== '') out.push(latin);
        latin = '';
        run.push(ch);
      } else {
        flush();
        latin += ch;
      }
    }
    flush();
    if (latin !== '') out.push(latin);
  }
  return out;
}
