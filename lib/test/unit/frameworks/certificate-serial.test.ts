import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { issuePilotCertificates, serialNumber } from '../../../src/frameworks/certificates.js';

describe("pilot certificates' serial numbers", () => {
  it('are positive and minimally encoded whatever the random bytes (OpenSSL 3 refuses others)', () => {
    for (const first of [0x00, 0x01, 0x3f, 0x40, 0x7f, 0x80, 0xff]) {
      const random = Buffer.alloc(16, 0x11);
      random[0] = first;
      // A leading 0x00 before a byte below 0x80 is the encoding OpenSSL 3 refused.
      random[1] = 0x58;
      const serial = serialNumber(random);
      expect(serial).toHaveLength(32);
      const leading = parseInt(serial.slice(0, 2), 16);
      expect({ first, leading: leading >= 0x40 && leading <= 0x7f }).toEqual({
        first,
        leading: true
      });
      expect(serial.slice(2)).toBe(random.subarray(1).toString('hex'));
    }
  });

  it('make certificates that OpenSSL reads back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'serial-'));
    try {
      await issuePilotCertificates({
        pilotId: 'pilot-serialtest0',
        tlsDir: dir,
        hosts: ['127.0.0.1'],
        serverSubject: 'test server'
      });
      for (const file of ['ca.pem', 'client.pem']) {
        const certificate = new X509Certificate(await readFile(join(dir, file)));
        expect(certificate.serialNumber).toMatch(/^[4-7][0-9A-F]{31}$/);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
