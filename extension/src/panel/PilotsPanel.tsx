import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';
import type { IPilotsModel } from '../tokens';
import { NewPilotForm } from './NewPilotForm';
import { PilotRow } from './PilotRow';

/** Re-renders on every model change, and once a second for the ages. */
function useModel(model: IPilotsModel): number {
  const [, setVersion] = React.useState(0);
  const [now, setNow] = React.useState(Date.now());
  React.useEffect(() => {
    const onChange = () => setVersion(v => v + 1);
    model.changed.connect(onChange);
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => {
      model.changed.disconnect(onChange);
      clearInterval(timer);
    };
  }, [model]);
  return now;
}

/** What the panel's buttons do beyond the model (commands of the application). */
export interface PilotsPanelActions {
  openDashboard(pilotId: string): void;
}

function PilotsView(props: {
  model: IPilotsModel;
  actions: PilotsPanelActions;
}): React.ReactElement {
  const { model, actions } = props;
  const now = useModel(model);
  const [cancelErrors, setCancelErrors] = React.useState<Record<string, string>>({});
  const { state, connection, lastError } = model;

  const cancel = async (pilotId: string) => {
    setCancelErrors(errors => {
      const rest = { ...errors };
      delete rest[pilotId];
      return rest;
    });
    try {
      await model.cancel(pilotId);
    } catch (error) {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      setCancelErrors(errors => ({ ...errors, [pilotId]: message }));
    }
  };

  return (
    <div className="ps-PilotsPanel-body">
      <header className="ps-PilotsPanel-header">
        <h2>Pilots</h2>
        <span
          className={`ps-Connection ps-Connection-${connection.state}`}
          title={connection.message ?? connection.state}
        >
          {connection.state === 'connected' ? 'connected' : connection.state}
        </span>
      </header>
      {connection.state !== 'connected' && connection.message !== undefined && (
        <div className="ps-PilotsPanel-status">{connection.message}</div>
      )}
      {lastError !== undefined && (
        <div className="ps-PilotsPanel-error" role="alert">
          {lastError.name}: {lastError.message}
        </div>
      )}
      <NewPilotForm model={model} pilots={state.pilots} creating={state.creating} />
      {state.pilots.length === 0 ? (
        <div className="ps-PilotsPanel-empty">
          {connection.state === 'connected' ? 'No pilots yet.' : 'Waiting for the control kernel…'}
        </div>
      ) : (
        <ul className="ps-PilotList">
          {state.pilots.map(pilot => (
            <PilotRow
              key={pilot.id}
              pilot={pilot}
              now={now}
              canceling={state.canceling.includes(pilot.id)}
              {...(cancelErrors[pilot.id] !== undefined
                ? { cancelError: cancelErrors[pilot.id] }
                : {})}
              onCancel={id => void cancel(id)}
              onOpenDashboard={id => actions.openDashboard(id)}
            />
          ))}
        </ul>
      )}
    </div>
  );
}

/** The left side panel "Pilots". */
export class PilotsPanel extends ReactWidget {
  constructor(
    private readonly model: IPilotsModel,
    private readonly actions: PilotsPanelActions
  ) {
    super();
    this.addClass('ps-PilotsPanel');
  }

  protected render(): React.ReactElement {
    return <PilotsView model={this.model} actions={this.actions} />;
  }
}
