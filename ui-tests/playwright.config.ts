import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { defineConfig, type PlaywrightTestConfig } from '@playwright/test';

// Galata's base configuration is CommonJS and its declaration file declares no export.
const baseConfig = createRequire(__filename)(
  '@jupyterlab/galata/lib/playwright-config'
) as PlaywrightTestConfig;

/** A port free right now on loopback, asked from the OS (never a fixed port). */
function pickFreePort(): string {
  const script =
    "const s = require('node:net').createServer();" +
    "s.listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); });";
  return execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }).trim();
}

// Chosen once in the runner; its workers inherit the environment and so the same port.
process.env.PILOT_STREAMING_UI_PORT ??= pickFreePort();
const port = process.env.PILOT_STREAMING_UI_PORT;

export default defineConfig({
  ...baseConfig,
  testDir: './tests',
  outputDir: './test-results',
  reporter: [['list'], ['html', { open: 'never' }]],
  // One JupyterLab and real Kafka brokers on two cores: run the tests one after another.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  use: {
    ...baseConfig.use,
    baseURL: `http://127.0.0.1:${port}`,
    video: 'off',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run'
      ]
    }
  },
  webServer: {
    command: `../.venv/bin/jupyter lab --config=jupyter_server_test_config.py --ServerApp.port=${port}`,
    cwd: __dirname,
    url: `http://127.0.0.1:${port}/lab`,
    timeout: 120_000,
    reuseExistingServer: false,
    // SIGTERM lets Jupyter shut its kernels down and remove its temporary folder.
    gracefulShutdown: { signal: 'SIGTERM', timeout: 15_000 },
    stdout: 'ignore',
    stderr: 'pipe'
  }
});
