// seam's ids against Hugging Face tokenizers' for texts built to reach every normalisation and
// pre-tokenisation rule: every Unicode scalar value in a few contexts, then seeded random mixes
// (scripts, whitespace kinds, zero-width and control characters, combining marks, CJK, emoji
// sequences, words past WordPiece's 100 characters, added tokens).
//
// usage: node diff.mjs SEAM_BIN TOKENIZER_DIR ADD_SPECIAL(0|1) [RANDOM_TEXTS] [SEED]
// TOKENIZER_DIR holds tokenizer.json (read by both); ADD_SPECIAL is what seam does for that
// tokenizer (BERT: [CLS] ... [SEP]; GPT-2: nothing). Exits 1 on any difference.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { Tokenizer } = require("@anush008/tokenizers");
const [seam, dir, addSpecial, nRandom = "4000", seedArg = "1"] = process.argv.slice(2);
if (!seam || !dir || !/^[01]$/.test(addSpecial || "")) {
    console.error("usage: node diff.mjs SEAM_BIN TOKENIZER_DIR ADD_SPECIAL(0|1) [RANDOM_TEXTS] [SEED]");
    process.exit(2);
}

const texts = [];
// Every scalar value, 16 to a line, each between letters, doubled, after punctuation and alone.
let parts = [];
for (let cp = 0; cp < 0x110000; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const ch = String.fromCodePoint(cp);
    parts.push(`a${ch}b ${ch}${ch}1 .${ch}' ${ch}`);
    if (parts.length === 16) { texts.push(parts.join(" ")); parts = []; }
}
if (parts.length) texts.push(parts.join(" "));

// Seeded mixes (mulberry32, so every run tests the same texts).
let state = Number(seedArg) >>> 0;
const rand = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (a) => a[Math.floor(rand() * a.length)];
const range = (a, b) => String.fromCodePoint(a + Math.floor(rand() * (b - a + 1)));
const words = "the quick Brown FOX jumps I'm don't we'll can't naive café résumé HTTP JSON e-mail state-of-the-art 3rd CamelCase snake_case".split(" ");
const pools = [
    () => pick(words),
    () => pick([..."!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~¡¿«»“”‘’–—…·•§¶、。，！？「」【】"]),
    () => pick([" ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "\u2003", "\u202f", "\u1680", "\u2028", "\u0085", "\x0b", "\x1f"]),
    () => pick(["\u200b", "\u200c", "\u200d", "\ufeff", "\u2060", "\u00ad", "\u200e", "\u202e", "\u034f", "\u180e", "\ufe0f", "\x00", "\x7f", "\ufffd"]),
    () => pick(words) + range(0x300, 0x36f) + (rand() < 0.5 ? range(0x300, 0x36f) : "") + range(0x591, 0x5c7),
    () => range(0xc0, 0x24f) + range(0x1e00, 0x1eff) + range(0x370, 0x3ff) + range(0x400, 0x4ff),
    () => range(0x600, 0x6ff) + range(0x900, 0x97f) + range(0xe01, 0xe5b) + range(0x1780, 0x17ff),
    () => range(0x4e00, 0x9fff) + range(0x3400, 0x4dbf) + range(0x20000, 0x2a6df) + range(0xf900, 0xfaff),
    () => range(0xac00, 0xd7a3) + range(0x1100, 0x11ff) + range(0x3041, 0x30ff) + range(0xff66, 0xff9f),
    () => pick(["👨\u200d👩\u200d👧", "👩\u200d💻", "🏳\ufe0f\u200d🌈", "👍🏿", "🇯🇵", "1\ufe0f\u20e3"]) + range(0x1f300, 0x1f6ff),
    () => range(0x1d400, 0x1d7ff) + range(0xff01, 0xff5e) + pick([..."€™°½ﬁ㎏ℌ①Ⅻ²"]),
    () => {
        const cp = Math.floor(rand() * 0x110000);
        return cp >= 0xd800 && cp <= 0xdfff ? "x" : String.fromCodePoint(cp);
    },
    () => pick(["a", "é", "日", "ß"]).repeat(95 + Math.floor(rand() * 10)),
    () => pick(["[MASK]", "[SEP]", "[CLS]", "<|endoftext|>", "[UNK]"]),
];
for (let i = 0; i < Number(nRandom); i++) {
    let t = "";
    const n = 1 + Math.floor(rand() * 12);
    for (let j = 0; j < n; j++) t += pick(pools)() + (rand() < 0.6 ? " " : "");
    texts.push(t);
}

const tok = Tokenizer.fromFile(`${dir}/tokenizer.json`);
const want = [];
for (let i = 0; i < texts.length; i += 4096)
    for (const e of await tok.encodeBatch(texts.slice(i, i + 4096), { addSpecialTokens: addSpecial === "1" })) want.push(e.getIds());

const input = texts.map((t) => JSON.stringify({ text: t })).join("\n") + "\n";
const r = spawnSync(seam, ["tokenize", "-m", dir, "--jsonl"], { input, maxBuffer: 1 << 30, encoding: "utf8" });
if (r.status !== 0) {
    console.error(`seam tokenize failed (status ${r.status}): ${r.stderr}`);
    process.exit(1);
}
const got = r.stdout.split("\n").filter((l) => l.length);
if (got.length !== texts.length) {
    console.error(`seam gave ${got.length} lines for ${texts.length} texts`);
    process.exit(1);
}
const esc = (s) => JSON.stringify(s).replace(/[^\x20-\x7e]/gu, (c) => `\\u{${c.codePointAt(0).toString(16)}}`);
let bad = 0;
for (let i = 0; i < texts.length; i++) {
    const ids = JSON.parse(got[i]).ids;
    if (ids.length === want[i].length && ids.every((v, k) => v === want[i][k])) continue;
    if (++bad <= 10) console.error(`text ${i} ${esc(texts[i]).slice(0, 300)}\n  seam ${JSON.stringify(ids).slice(0, 200)}\n  ref  ${JSON.stringify(want[i]).slice(0, 200)}`);
}
console.log(`${dir}: ${texts.length} texts, ${bad} differ`);
process.exit(bad ? 1 : 0);
