/**
 * Bad input to a Streaming Mini-App: a malformed message, an option or argument out of range.
 * The message names the key (field, option or byte offset), the value found and what is expected.
 */
export class MiniAppInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MiniAppInputError';
  }
}
