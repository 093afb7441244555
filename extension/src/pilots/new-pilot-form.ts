import {
  checkPilotDescription,
  type PilotDescriptionInput,
  type ValidationProblem
} from '@pilot-streaming/lib/protocol';

/** What the "New pilot" form holds: strings, as typed. */
export interface NewPilotFormValues {
  type: string;
  resource: string;
  name: string;
}

export const DEFAULT_RESOURCE = 'fork://localhost';

/** The description the form stands for: trimmed, and without a name when none was typed. */
export function descriptionFromForm(values: NewPilotFormValues): PilotDescriptionInput {
  const name = values.name.trim();
  // The form's strings go to the shared schema as they are; it names what is wrong with them.
  return {
    type: values.type.trim(),
    resource: values.resource.trim(),
    ...(name !== '' ? { name } : {})
  } as PilotDescriptionInput;
}

export type FormCheck =
  { ok: true; description: PilotDescriptionInput } | { ok: false; problems: ValidationProblem[] };

/** Validates the form with the same schema the library uses; nothing is sent when invalid. */
export function checkNewPilotForm(values: NewPilotFormValues): FormCheck {
  const description = descriptionFromForm(values);
  const problems = checkPilotDescription(description);
  return problems.length === 0 ? { ok: true, description } : { ok: false, problems };
}
