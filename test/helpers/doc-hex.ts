import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * A doc page (docs/PAGE) and its hex examples: `example(name)` is the bytes
 * of the hex dump that follows `<!-- example:NAME -->` (lines "0000  hh hh …").
 */
export function docExamples(page: string): { doc: string; example: (name: string) => Buffer } {
  const doc = readFileSync(fileURLToPath(new URL(`../../../docs/${page}`, import.meta.url)), 'utf8');
  const example = (name: string): Buffer => {
    const block = new RegExp(`<!-- example:${name} -->\\n\`\`\`\\n([\\s\\S]*?)\`\`\``).exec(doc)?.[1];
    assert.ok(block, `docs/${page} has example ${name}`);
    const hex = block
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) =>
        l
          .slice(6, 6 + 47)
          .trim()
          .replace(/ /g, ''),
      )
      .join('');
    return Buffer.from(hex, 'hex');
  };
  return { doc, example };
}
