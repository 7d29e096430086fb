// The live test of a namePattern: the server checks it with RE2 against the whole name; the
// browser's RegExp agrees on the common syntax (classes, groups, alternation, repetition).

export type PatternTest = { valid: false; message: string } | { valid: true; matches: boolean };

export function testPattern(pattern: string, name: string): PatternTest {
  let regex: RegExp;
  try {
    regex = new RegExp(`^(?:${pattern})$`, "u");
  } catch {
    return { valid: false, message: "This is not a valid pattern." };
  }
  return { valid: true, matches: regex.test(name) };
}
