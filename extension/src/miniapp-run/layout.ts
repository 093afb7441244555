// Pure geometry of the widget (no DOM), so it can be unit-tested.

/** Each unit's share of the busiest unit's messages, in [0, 1]; all 0 while nothing counted. */
export function progressFractions(messages: readonly number[]): number[] {
  const max = Math.max(0, ...messages.filter(Number.isFinite));
  return messages.map(value => (max > 0 && Number.isFinite(value) ? Math.max(0, value) / max : 0));
}

export interface ScatterBox {
  width: number;
  height: number;
  /** Room kept free on every side, so the largest marker is not clipped. */
  padding: number;
  minRadius: number;
  maxRadius: number;
}

export interface CenterMarker {
  /** Index of the centre in the view (stable across updates, unlike the marker order). */
  index: number;
  x: number;
  y: number;
  r: number;
}

/**
 * Markers for the KMeans centres projected on their first two coordinates (a 1-D model lies on
 * a horizontal line). Both axes share one scale, so distances between centres are not distorted;
 * SVG's y grows downwards, hence the flip. Marker area is proportional to the centre's weight.
 * Centres whose projected coordinates are not finite (an empty centre) are left out.
 */
export function projectCenters(
  centers: readonly (readonly number[])[],
  weights: readonly number[],
  box: ScatterBox
): CenterMarker[] {
  const points = centers
    .map((center, index) => ({ index, px: center[0] ?? NaN, py: center[1] ?? 0 }))
    .filter(point => Number.isFinite(point.px) && Number.isFinite(point.py));
  if (points.length === 0) return [];
  const xs = points.map(point => point.px);
  const ys = points.map(point => point.py);
  const [minX, maxX] = [Math.min(...xs), Math.max(...xs)];
  const [minY, maxY] = [Math.min(...ys), Math.max(...ys)];
  const innerWidth = box.width - 2 * box.padding;
  const innerHeight = box.height - 2 * box.padding;
  const spanX = maxX - minX;
  const spanY = maxY - minY;
  const scale = Math.min(
    spanX > 0 ? innerWidth / spanX : Infinity,
    spanY > 0 ? innerHeight / spanY : Infinity
  );
  // One point (or all equal): nothing to scale, put them in the middle.
  const k = Number.isFinite(scale) ? scale : 0;
  const finiteWeights = weights.filter(weight => Number.isFinite(weight) && weight > 0);
  const maxWeight = Math.max(0, ...finiteWeights);
  return points.map(({ index, px, py }) => {
    const weight = weights[index];
    const share =
      maxWeight > 0 && Number.isFinite(weight) && weight > 0 ? Math.sqrt(weight / maxWeight) : 0;
    return {
      index,
      x: box.width / 2 + (px - (minX + maxX) / 2) * k,
      y: box.height / 2 - (py - (minY + maxY) / 2) * k,
      r: box.minRadius + share * (box.maxRadius - box.minRadius)
    };
  });
}
