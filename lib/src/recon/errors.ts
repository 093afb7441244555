/**
 * Bad input to reconstruction: names the file, dataset or option, the value found and what is
 * expected. Raised before any output is written.
 */
export class ReconInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReconInputError';
  }
}
