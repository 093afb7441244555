import {
  dashboardPath,
  endpointLabel,
  endpointOf,
  isTerminal,
  type PilotSummary
} from '@pilot-streaming/lib/protocol';
import * as React from 'react';
import { formatAge } from '../pilots/age';

/**
 * One pilot: name or id, state badge, type, resource, age; progress while starting; its
 * dashboard when Running (a framework that shows one); Cancel.
 */
export function PilotRow(props: {
  pilot: PilotSummary;
  now: number;
  canceling: boolean;
  cancelError?: string;
  onCancel: (pilotId: string) => void;
  onOpenDashboard: (pilotId: string) => void;
}): React.ReactElement {
  const { pilot, now, canceling } = props;
  const starting = pilot.state === 'New' || pilot.state === 'Pending';
  const terminal = isTerminal(pilot.state);
  return (
    <li className="ps-PilotRow" data-pilot-id={pilot.id} data-state={pilot.state}>
      <div className="ps-PilotRow-head">
        <span className="ps-PilotRow-name" title={pilot.id}>
          {pilot.name ?? pilot.id}
        </span>
        <span className={`ps-StateBadge ps-StateBadge-${pilot.state}`}>{pilot.state}</span>
      </div>
      <div className="ps-PilotRow-facts">
        <span className="ps-PilotRow-type">{pilot.type}</span>
        <span className="ps-PilotRow-resource" title={pilot.resource}>
          {pilot.resource}
        </span>
        <span className="ps-PilotRow-age" title={`created ${pilot.createdAt}`}>
          {formatAge(pilot.createdAt, now)}
        </span>
      </div>
      {pilot.name !== undefined && <div className="ps-PilotRow-id">{pilot.id}</div>}
      {starting && (
        <div className="ps-PilotRow-progress">
          <span className="ps-Spinner" aria-hidden="true" />
          <span>
            {pilot.progress?.stage ?? (pilot.state === 'New' ? 'submitting' : 'starting')}
          </span>
          {pilot.progress?.fraction !== undefined && (
            <span> {Math.round(pilot.progress.fraction * 100)}%</span>
          )}
        </div>
      )}
      {pilot.state === 'Running' && pilot.details !== undefined && (
        <div className="ps-PilotRow-details" title={endpointLabel(pilot.details)}>
          {endpointOf(pilot.details).split(',').join(', ')}
        </div>
      )}
      {(pilot.state === 'Failed' || pilot.state === 'Canceled') && pilot.reason !== undefined && (
        <div className="ps-PilotRow-reason">{pilot.reason}</div>
      )}
      {props.cancelError !== undefined && (
        <div className="ps-PilotRow-error" role="alert">
          {props.cancelError}
        </div>
      )}
      {pilot.state === 'Running' && dashboardPath(pilot) !== undefined && (
        <button
          type="button"
          className="ps-PilotRow-dashboard jp-mod-styled"
          onClick={() => props.onOpenDashboard(pilot.id)}
        >
          Dashboard
        </button>
      )}
      {!terminal && (
        <button
          type="button"
          className="ps-PilotRow-cancel jp-mod-styled jp-mod-warn"
          disabled={canceling}
          onClick={() => props.onCancel(pilot.id)}
        >
          {canceling ? 'Canceling…' : 'Cancel'}
        </button>
      )}
    </li>
  );
}
