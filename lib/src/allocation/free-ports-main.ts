/**
 * `node free-ports-main.js <address> <count>`: prints `count` TCP ports free right now on
 * `address` of the node it runs on (the supervisor runs it on other nodes as a job step).
 */
import { pickFreePorts } from '../frameworks/free-ports.js';

const [address, countText] = process.argv.slice(2);
const count = Number(countText);
if (address === undefined || !Number.isInteger(count) || count < 1 || count > 64) {
  process.stderr.write(
    `usage: free-ports-main <address> <count 1..64>; got ${JSON.stringify(process.argv.slice(2))}\n`
  );
  process.exit(2);
}
pickFreePorts(count, address).then(
  ports => process.stdout.write(`${ports.join(' ')}\n`),
  (error: unknown) => {
    process.stderr.write(`cannot pick ports on ${address}: ${(error as Error).message}\n`);
    process.exit(1);
  }
);
