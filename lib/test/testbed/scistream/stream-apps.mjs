// Producer and consumer applications for the namespace testbed, run with plain node inside a
// namespace. The data is an AES-128-CTR keystream under a random key: indistinguishable from
// random, yet any part can be regenerated at its offset, so parts go out in parallel.
//
//   node stream-apps.mjs produce HOST TOTAL_BYTES PARTS     prints {"ports":[...],"sha256":"..."}
//   node stream-apps.mjs consume FILE TOTAL_BYTES HOST:PORT...   prints {"bytes":N,"sha256":"..."}
/* global console */
import { Buffer } from 'node:buffer';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import process from 'node:process';

const CHUNK = 1024 * 1024;
const zeros = Buffer.alloc(CHUNK);

function keystream(key, offset) {
  const iv = Buffer.alloc(16);
  iv.writeBigUInt64BE(BigInt(offset / 16), 8);
  return createCipheriv('aes-128-ctr', key, iv);
}

async function produce(host, total, parts) {
  const key = randomBytes(16);
  const partSize = total / parts;
  if (!Number.isInteger(partSize) || partSize % 16 !== 0)
    throw new Error('TOTAL/PARTS must be a multiple of 16');
  const whole = createHash('sha256');
  const cipher = keystream(key, 0);
  for (let done = 0; done < total; done += CHUNK)
    whole.update(cipher.update(zeros.subarray(0, Math.min(CHUNK, total - done))));
  const ports = [];
  for (let part = 0; part < parts; part++) {
    const server = net.createServer(socket => {
      const stream = keystream(key, part * partSize);
      let sent = 0;
      socket.on('error', () => socket.destroy());
      const more = () => {
        while (sent < partSize) {
          const chunk = stream.update(zeros.subarray(0, Math.min(CHUNK, partSize - sent)));
          sent += chunk.length;
          if (!socket.write(chunk)) return void socket.once('drain', more);
        }
        socket.end();
      };
      more();
    });
    await new Promise(resolve => server.listen(0, host, resolve));
    ports.push(server.address().port);
  }
  console.log(JSON.stringify({ ports, sha256: whole.digest('hex') }));
  // Serves until the test stops it.
}

async function consume(file, total, listeners) {
  const partSize = total / listeners.length;
  const handle = await open(file, 'w+', 0o600);
  const started = performance.now();
  await Promise.all(
    listeners.map(
      (listener, part) =>
        new Promise((resolve, reject) => {
          const [host, port] = listener.split(':');
          let offset = part * partSize;
          let writes = Promise.resolve();
          const socket = net.connect({ host, port: Number(port) });
          socket.on('data', chunk => {
            const at = offset;
            offset += chunk.length;
            socket.pause();
            writes = writes
              .then(() => handle.write(chunk, 0, chunk.length, at))
              .then(() => socket.resume());
          });
          socket.on('end', () =>
            writes.then(() =>
              offset - part * partSize === partSize
                ? resolve()
                : reject(
                    new Error(`part ${part}: ${offset - part * partSize} of ${partSize} bytes`)
                  )
            )
          );
          socket.on('error', reject);
        })
    )
  );
  const seconds = (performance.now() - started) / 1000;
  await handle.close();
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file)) {
    bytes += chunk.length;
    hash.update(chunk);
  }
  await rm(file);
  console.log(
    JSON.stringify({ bytes, sha256: hash.digest('hex'), gbps: (total * 8) / seconds / 1e9 })
  );
}

const [command, ...args] = process.argv.slice(2);
if (command === 'produce') await produce(args[0], Number(args[1]), Number(args[2]));
else if (command === 'consume') await consume(args[0], Number(args[1]), args.slice(2));
else throw new Error(`unknown command "${command}": expected produce or consume`);
