import { PILOT_TYPES, formatProblem, type ValidationProblem } from '@pilot-streaming/lib/protocol';
import * as React from 'react';
import { ControlError } from '../control/control-error';
import {
  checkNewPilotForm,
  DEFAULT_RESOURCE,
  type NewPilotFormValues
} from '../pilots/new-pilot-form';
import type { PendingCreate } from '../pilots/pilots-state';
import type { IPilotsModel } from '../tokens';

interface Outcome {
  message?: string;
  problems: ValidationProblem[];
}

function outcomeOf(error: unknown): Outcome {
  if (error instanceof ControlError) {
    return { message: `${error.name}: ${error.message}`, problems: error.problems ?? [] };
  }
  return { message: error instanceof Error ? error.message : String(error), problems: [] };
}

/** "New pilot": type, resource and an optional name, checked with the shared schema before sending. */
export function NewPilotForm(props: {
  model: IPilotsModel;
  creating: readonly PendingCreate[];
}): React.ReactElement {
  const [values, setValues] = React.useState<NewPilotFormValues>({
    type: PILOT_TYPES[0],
    resource: DEFAULT_RESOURCE,
    name: ''
  });
  const [outcome, setOutcome] = React.useState<Outcome | undefined>();

  const change =
    (key: keyof NewPilotFormValues) =>
    (event: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) => {
      setValues({ ...values, [key]: event.target.value });
    };

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    const check = checkNewPilotForm(values);
    if (!check.ok) {
      setOutcome({ problems: check.problems });
      return;
    }
    setOutcome(undefined);
    try {
      await props.model.create(check.description);
      // Ready for the next one; type and resource are usually the same again.
      setValues(current => ({ ...current, name: '' }));
    } catch (error) {
      setOutcome(outcomeOf(error));
    }
  };

  return (
    <form className="ps-NewPilot" onSubmit={event => void submit(event)} noValidate>
      <div className="ps-NewPilot-title">New pilot</div>
      <label className="ps-NewPilot-field">
        <span>Type</span>
        <select name="type" value={values.type} onChange={change('type')}>
          {PILOT_TYPES.map(type => (
            <option key={type} value={type}>
              {type}
            </option>
          ))}
        </select>
      </label>
      <label className="ps-NewPilot-field">
        <span>Resource</span>
        <input
          name="resource"
          type="text"
          value={values.resource}
          onChange={change('resource')}
          spellCheck={false}
        />
      </label>
      <label className="ps-NewPilot-field">
        <span>Name</span>
        <input
          name="name"
          type="text"
          value={values.name}
          placeholder="optional"
          onChange={change('name')}
        />
      </label>
      <div className="ps-NewPilot-actions">
        <button type="submit" className="ps-NewPilot-create jp-mod-styled jp-mod-accept">
          Create
        </button>
        {props.creating.map(pending => (
          <span key={pending.requestId} className="ps-NewPilot-progress">
            <span className="ps-Spinner" aria-hidden="true" />
            {pending.stage ?? 'sending'}
            {pending.fraction !== undefined ? ` ${Math.round(pending.fraction * 100)}%` : ''}
          </span>
        ))}
      </div>
      {outcome && (
        <div className="ps-NewPilot-error" role="alert">
          {outcome.message && <div>{outcome.message}</div>}
          {outcome.problems.length > 0 && (
            <ul>
              {outcome.problems.map(problem => (
                <li key={problem.key} data-key={problem.key}>
                  {formatProblem(problem)}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </form>
  );
}
