import { describe, expect, it } from 'vitest';
import { contextUnder, locationUnder, routeOf } from '../../../src/dashboards/dashboard-proxy.js';

describe("the dashboard proxy's routes", () => {
  it('splits /<pilot id>/<path> and keeps the query', () => {
    expect(routeOf('/pilot-0123456789ab/status')).toEqual({
      pilotId: 'pilot-0123456789ab',
      path: '/status'
    });
    expect(routeOf('/pilot-0123456789ab')).toEqual({ pilotId: 'pilot-0123456789ab', path: '/' });
    expect(routeOf('/pilot-0123456789ab?x=1')).toEqual({
      pilotId: 'pilot-0123456789ab',
      path: '/?x=1'
    });
    expect(routeOf('/pilot-0123456789ab/status/ws?bokeh-session-id=a%2Fb')).toEqual({
      pilotId: 'pilot-0123456789ab',
      path: '/status/ws?bokeh-session-id=a%2Fb'
    });
  });

  it('has a root of its own, and refuses what is not a pilot id, naming it', () => {
    expect(routeOf('/')).toBeUndefined();
    expect(routeOf(undefined)).toBeUndefined();
    expect(() => routeOf('/status')).toThrow('"status" is not a pilot id');
    expect(() => routeOf('/..%2F..%2Fetc/passwd')).toThrow('"../../etc" is not a pilot id');
    expect(() => routeOf('/%E0%A4%A/status')).toThrow('"%E0%A4%A" is not a pilot id');
  });

  it("keeps a dashboard's absolute redirects under the pilot's prefix", () => {
    expect(locationUnder('pilot-0123456789ab', '/status')).toBe('/pilot-0123456789ab/status');
    expect(locationUnder('pilot-0123456789ab', 'status')).toBe('status');
    expect(locationUnder('pilot-0123456789ab', 'https://dask.org/')).toBe('https://dask.org/');
    expect(locationUnder('pilot-0123456789ab', '//elsewhere/x')).toBe('//elsewhere/x');
  });

  it('tells a dashboard the path the browser sees it under (Spark prefixes its links with it)', () => {
    expect(contextUnder('pilot-0123456789ab', '/user/ada/pilot-dashboards')).toBe(
      '/user/ada/pilot-dashboards/pilot-0123456789ab'
    );
    expect(contextUnder('pilot-0123456789ab', '/pilot-dashboards/')).toBe(
      '/pilot-dashboards/pilot-0123456789ab'
    );
    expect(contextUnder('pilot-0123456789ab', undefined)).toBe('/pilot-0123456789ab');
  });
});
