import { writeFile } from 'node:fs/promises';
import * as prettier from 'prettier';

/**
 * Writes a benchmark's Markdown table as the repository formats its Markdown (it is committed
 * with the rest), and returns the formatted text.
 */
export async function writeFormattedMarkdown(path: string, markdown: string): Promise<string> {
  const options = (await prettier.resolveConfig(path)) ?? {};
  const formatted = await prettier.format(markdown, { ...options, parser: 'markdown' });
  await writeFile(path, formatted);
  return formatted;
}
