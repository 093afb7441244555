import { describe, expect, it } from 'vitest';
import {
  formatBytes,
  formatCoordinate,
  formatCount,
  formatMs,
  formatRate,
  formatWeight
} from '../src/miniapp-run/format';
import { progressFractions, projectCenters, type ScatterBox } from '../src/miniapp-run/layout';
import { isPngDataUrl } from '../src/miniapp-run/slice-image';

describe('formatting', () => {
  it('groups counts', () => {
    expect(formatCount(1234567, 'en-US')).toBe('1,234,567');
  });

  it('gives small rates one decimal and large ones none', () => {
    expect(formatRate(2.345, 'en-US')).toBe('2.3');
    expect(formatRate(0, 'en-US')).toBe('0.0');
    expect(formatRate(1234.6, 'en-US')).toBe('1,235');
  });

  it('picks a precision and a unit for latencies', () => {
    expect(formatMs(0.4321, 'en-US')).toBe('0.43 ms');
    expect(formatMs(12.34, 'en-US')).toBe('12.3 ms');
    expect(formatMs(250.4, 'en-US')).toBe('250 ms');
    expect(formatMs(1520, 'en-US')).toBe('1.52 s');
  });

  it('uses decimal byte units', () => {
    expect(formatBytes(999, 'en-US')).toBe('999 B');
    expect(formatBytes(1500, 'en-US')).toBe('1.5 kB');
    expect(formatBytes(2_000_000_000, 'en-US')).toBe('2.0 GB');
  });

  it('keeps fractional weights readable', () => {
    expect(formatWeight(0.123, 'en-US')).toBe('0.12');
    expect(formatWeight(12345, 'en-US')).toBe('12,345');
  });

  it('rounds coordinates to three significant digits', () => {
    expect(formatCoordinate(3.14159)).toBe('3.14');
    expect(formatCoordinate(-0.000123456)).toBe('-0.000123');
    expect(formatCoordinate(NaN)).toBe('NaN');
  });
});

describe('progressFractions', () => {
  it('measures each unit against the busiest one', () => {
    expect(progressFractions([50, 100, 0])).toEqual([0.5, 1, 0]);
  });

  it('is all zero while nothing was counted', () => {
    expect(progressFractions([0, 0])).toEqual([0, 0]);
    expect(progressFractions([])).toEqual([]);
  });
});

describe('projectCenters', () => {
  const box: ScatterBox = { width: 200, height: 100, padding: 10, minRadius: 2, maxRadius: 10 };

  it('fits the centres in the box with one scale for both axes, y upwards', () => {
    const markers = projectCenters(
      [
        [0, 0, 9],
        [8, 4, 9]
      ],
      [1, 4],
      box
    );
    // Inner box 180 × 80: x span 8 → 22.5/unit, y span 4 → 20/unit; the smaller wins.
    expect(markers).toEqual([
      { index: 0, x: 20, y: 90, r: 6 },
      { index: 1, x: 180, y: 10, r: 10 }
    ]);
  });

  it('puts a single centre in the middle and lays a 1-D model on a line', () => {
    expect(projectCenters([[5]], [3], box)).toEqual([{ index: 0, x: 100, y: 50, r: 10 }]);
    const line = projectCenters([[0], [1]], [1, 1], box);
    expect(line.map(marker => marker.y)).toEqual([50, 50]);
  });

  it('leaves out centres that are not finite and keeps the others’ indices', () => {
    const markers = projectCenters(
      [
        [NaN, 1],
        [0, 0],
        [1, 1]
      ],
      [0, 0, 0],
      box
    );
    expect(markers.map(marker => marker.index)).toEqual([1, 2]);
    expect(markers.every(marker => marker.r === box.minRadius)).toBe(true);
  });
});

describe('isPngDataUrl', () => {
  it('accepts only inline PNGs', () => {
    expect(isPngDataUrl('data:image/png;base64,iVBORw0KGgo=')).toBe(true);
    expect(isPngDataUrl('https://example.org/slice.png')).toBe(false);
    expect(isPngDataUrl('data:image/svg+xml;base64,PHN2Zz4=')).toBe(false);
    expect(isPngDataUrl(undefined)).toBe(false);
  });
});
