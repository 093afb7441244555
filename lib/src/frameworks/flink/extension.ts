import type { FlinkDetails } from '../../protocol/index.js';

/** The parent's details with a running child's TaskManagers added (the parent lists them all). */
export function withChildTaskManagers(parent: FlinkDetails, child: FlinkDetails): FlinkDetails {
  const known = new Set(parent.taskManagers.map(each => each.id));
  return {
    ...parent,
    taskManagers: [
      ...parent.taskManagers,
      ...child.taskManagers.filter(each => !known.has(each.id))
    ]
  };
}

/** The parent's details without the TaskManagers of child pilot `childId`. */
export function withoutChildTaskManagers(parent: FlinkDetails, childId: string): FlinkDetails {
  return {
    ...parent,
    taskManagers: parent.taskManagers.filter(each => each.pilotId !== childId)
  };
}
