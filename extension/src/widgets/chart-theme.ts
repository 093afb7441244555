/** What the live widgets' uPlot charts share: the time axis and colours from the theme. */

/** Tick spacings on the time axis, in seconds (samples come about once a second). */
export const TIME_STEPS_S = [
  1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400
];

/** A tick of the time axis as a wall-clock time. */
export function formatTick(seconds: number): string {
  return new Date(seconds * 1000).toLocaleTimeString([], {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit'
  });
}

/**
 * Colours read from the JupyterLab theme's CSS variables (name → [variable, fallback]), so the
 * canvas follows light and dark themes.
 */
export function themeColors<K extends string>(
  node: HTMLElement,
  variables: Record<K, readonly [string, string]>
): Record<K, string> {
  const style = getComputedStyle(node);
  const colors = {} as Record<K, string>;
  for (const [name, [variable, fallback]] of Object.entries(variables) as [
    K,
    readonly [string, string]
  ][])
    colors[name] = style.getPropertyValue(variable).trim() || fallback;
  return colors;
}
