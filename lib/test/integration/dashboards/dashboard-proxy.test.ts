import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startDashboardProxy,
  type DashboardProxy
} from '../../../src/dashboards/dashboard-proxy.js';
import { DASK_TLS_DIR } from '../../../src/frameworks/dask/tls.js';
import type { Pilot } from '../../../src/pilot/index.js';
import { dashboardPath, type DaskDetails } from '../../../src/protocol/index.js';
import { foreignCredentials, tryTls } from '../../support/kafka-access.js';
import { usePilotTestHome } from '../../support/pilot-home.js';
import { getOverSocket, websocketOverSocket } from '../../support/unix-http.js';

describe("a Dask pilot's dashboard through the dashboard proxy", () => {
  const test = usePilotTestHome('file');
  let pilot: Pilot;
  let details: DaskDetails;
  let socketDir: string;
  let socketPath: string;
  let proxy: DashboardProxy | undefined;

  beforeAll(async () => {
    pilot = await test.service.createPilot({
      type: 'dask',
      resource: 'fork://localhost',
      walltimeMinutes: 20
    });
    await pilot.wait('Running', { timeoutMs: 170_000 });
    details = (await pilot.refresh()).details as DaskDetails;
    socketDir = await mkdtemp(join(tmpdir(), 'dashboard-proxy-'));
    socketPath = join(socketDir, 'socket');
    proxy = await startDashboardProxy({ pilots: test.newService(), socketPath });
  }, 200_000);

  afterAll(async () => {
    await proxy?.close();
    await rm(socketDir, { recursive: true, force: true });
  });

  it('serves it only with mutual TLS, on the node address and a port of its own', async () => {
    expect(details.dashboardAddress).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const { hostname, port } = new URL(details.dashboardAddress!);
    const tlsDir = join((await pilot.refresh()).workDir!, DASK_TLS_DIR);
    const own = {
      ca: await readFile(join(tlsDir, 'ca.pem'), 'utf8'),
      cert: await readFile(join(tlsDir, 'client.pem'), 'utf8'),
      key: await readFile(join(tlsDir, 'client-key.pem'), 'utf8')
    };
    const foreign = await foreignCredentials();
    expect(await tryTls(hostname, Number(port), { ca: [own.ca], ...own })).toBe('accepted');
    expect(await tryTls(hostname, Number(port), { ca: [own.ca] })).toEqual({
      refused: expect.any(String)
    });
    expect(
      await tryTls(hostname, Number(port), { ca: [own.ca], cert: foreign.cert, key: foreign.key })
    ).toEqual({ refused: expect.any(String) });
  });

  it('forwards pages, JSON, redirects and websockets with the pilot certificate', async () => {
    expect(dashboardPath(await pilot.refresh())).toBe(`pilot-dashboards/${pilot.id}/status`);
    expect((await stat(socketPath)).mode & 0o777).toBe(0o600);

    const status = await getOverSocket(socketPath, `/${pilot.id}/status`);
    expect(status.status).toBe(200);
    expect(status.body).toContain('<title>Dask Diagnostic UI</title>');
    const counts = await getOverSocket(socketPath, `/${pilot.id}/json/counts.json`);
    expect(JSON.parse(counts.body)).toMatchObject({ workers: 1 });
    // Dask redirects "/" to "/status": the browser stays under the pilot's prefix.
    const root = await getOverSocket(socketPath, `/${pilot.id}/`);
    expect(root.status).toBe(301);
    expect(root.headers.location).toBe(`/${pilot.id}/status`);
    // Bokeh's live plots: the websocket handshake goes through and the server answers.
    const socket = await websocketOverSocket(socketPath, `/${pilot.id}/status/ws`);
    expect(socket.status).toBe(101);
    expect(socket.firstFrame?.length).toBeGreaterThan(0);
  });

  it('says what is wrong with a request for no pilot, and for a pilot not running', async () => {
    const root = await getOverSocket(socketPath, '/');
    expect(root).toMatchObject({ status: 200, body: expect.stringContaining('pilot-dashboards/') });
    expect(await getOverSocket(socketPath, '/not-an-id/status')).toMatchObject({
      status: 404,
      body: expect.stringContaining('"not-an-id" is not a pilot id')
    });
    expect(await getOverSocket(socketPath, '/pilot-000000000000/status')).toMatchObject({
      status: 404,
      body: expect.stringContaining('No pilot with id "pilot-000000000000"')
    });

    await pilot.cancel();
    const after = await getOverSocket(socketPath, `/${pilot.id}/status`);
    expect(after.status).toBe(409);
    expect(after.body).toContain(pilot.id);
    expect(after.body).toContain('Canceled');
    // An open dashboard tab reconnects its websocket: it hears the same.
    expect(await websocketOverSocket(socketPath, `/${pilot.id}/status/ws`)).toEqual({
      status: 409
    });
    await proxy!.close();
    proxy = undefined;
    expect(await readdir(socketDir)).toEqual([]);
  });
});
