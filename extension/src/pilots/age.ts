/**
 * Age of a pilot for the panel: the two largest units, e.g. "42s", "3m 05s", "2h 10m", "4d 3h".
 * A creation time in the future (clock skew between browser and server) reads as "0s".
 */
export function formatAge(createdAt: string, nowMs: number): string {
  const created = Date.parse(createdAt);
  if (Number.isNaN(created)) return '?';
  const seconds = Math.max(0, Math.floor((nowMs - created) / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, '0')}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${String(minutes % 60).padStart(2, '0')}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}
