import {
  PILOT_TYPES,
  formatProblem,
  type PilotSummary,
  type PilotType,
  type ValidationProblem
} from '@pilot-streaming/lib/protocol';
import * as React from 'react';
import { ControlError } from '../control/control-error';
import {
  checkNewPilotForm,
  CONFIGURATION_EXAMPLES,
  EMPTY_FORM,
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

/**
 * "New pilot": type, resource and an optional name; nodes, wall time, cores, a parent to extend
 * and the framework's configuration under "More". Checked with the shared schema before sending.
 */
export function NewPilotForm(props: {
  model: IPilotsModel;
  pilots: readonly PilotSummary[];
  creating: readonly PendingCreate[];
}): React.ReactElement {
  const [values, setValues] = React.useState<NewPilotFormValues>({
    ...EMPTY_FORM,
    type: PILOT_TYPES[0]
  });
  const [outcome, setOutcome] = React.useState<Outcome | undefined>();
  // A child extends a Running pilot of its own type (the server checks the resource too).
  const parents = props.pilots.filter(
    pilot => pilot.type === values.type && pilot.state === 'Running'
  );

  const change =
    (key: keyof NewPilotFormValues) =>
    (event: React.ChangeEvent<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>) => {
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
      // Ready for the next one; the rest is usually the same again.
      setValues(current => ({ ...current, name: '', parent: '' }));
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
      <details className="ps-NewPilot-more">
        <summary>More</summary>
        <label className="ps-NewPilot-field">
          <span>Nodes</span>
          <input
            name="nodes"
            type="text"
            inputMode="numeric"
            value={values.nodes}
            placeholder="1"
            onChange={change('nodes')}
          />
        </label>
        <label className="ps-NewPilot-field">
          <span>Wall time (min)</span>
          <input
            name="walltime"
            type="text"
            inputMode="numeric"
            value={values.walltime}
            placeholder="60"
            onChange={change('walltime')}
          />
        </label>
        <label className="ps-NewPilot-field">
          <span>Cores per node</span>
          <input
            name="cores"
            type="text"
            inputMode="numeric"
            value={values.cores}
            placeholder="the framework's default"
            onChange={change('cores')}
          />
        </label>
        <label className="ps-NewPilot-field">
          <span>Extends</span>
          <select name="parent" value={values.parent} onChange={change('parent')}>
            <option value="">no pilot (a cluster of its own)</option>
            {parents.map(pilot => (
              <option key={pilot.id} value={pilot.id}>
                {pilot.name !== undefined ? `${pilot.name} (${pilot.id})` : pilot.id}
              </option>
            ))}
          </select>
        </label>
        <label className="ps-NewPilot-field ps-NewPilot-configuration">
          <span>Configuration</span>
          <textarea
            name="configuration"
            rows={3}
            value={values.configuration}
            placeholder={CONFIGURATION_EXAMPLES[values.type as PilotType] ?? 'key = value'}
            onChange={change('configuration')}
            spellCheck={false}
          />
        </label>
      </details>
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
