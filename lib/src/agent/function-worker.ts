/**
 * Worker thread running one function compute unit: evaluates the shipped source, calls it with
 * the arguments, posts the value (structured clone) or the error. Only the function's source and
 * its arguments travel; outer variables of the original function (closures) do not.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { runInThisContext } from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';

interface FunctionUnitData {
  unitId: string;
  source: string;
  args: unknown[];
  unitDir: string;
}

const CLOSURE_HINT =
  'compute units ship only the function source and its arguments: closures over outer variables are not supported, pass values as arguments';

function errorOf(thrown: unknown): { name: string; message: string; stack?: string } {
  if (thrown instanceof Error) {
    let { message, stack } = thrown;
    if (thrown instanceof ReferenceError) {
      message = `${message} (${CLOSURE_HINT})`;
      stack = stack?.replace(thrown.message, message);
    }
    return { name: thrown.name, message, ...(stack !== undefined ? { stack } : {}) };
  }
  return { name: 'Error', message: `the unit threw a non-Error value: ${String(thrown)}` };
}

async function run(data: FunctionUnitData): Promise<unknown> {
  // `require` for units that need Node modules, resolved from the unit's directory.
  (globalThis as { require?: NodeJS.Require }).require = createRequire(join(data.unitDir, 'x.js'));
  let fn: unknown;
  try {
    fn = runInThisContext(`(${data.source})`, { filename: `${data.unitId}.js` });
  } catch (error) {
    throw new SyntaxError(
      `the unit's source does not compile as a function expression (${(error as Error).message}); submit an arrow function or a function expression`,
      { cause: error }
    );
  }
  if (typeof fn !== 'function') throw new TypeError(`the unit's source is not a function`);
  return (fn as (...args: unknown[]) => unknown)(...data.args);
}

const port = parentPort;
if (port === null) throw new Error('function-worker runs only as a worker thread');
run(workerData as FunctionUnitData).then(
  value => {
    try {
      port.postMessage({ ok: true, value });
    } catch (error) {
      port.postMessage({
        ok: false,
        error: {
          name: 'DataCloneError',
          message: `the unit's return value cannot be sent back (not structured-cloneable): ${(error as Error).message}`
        }
      });
    }
  },
  (error: unknown) => port.postMessage({ ok: false, error: errorOf(error) })
);
